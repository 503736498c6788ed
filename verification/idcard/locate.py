"""Finding the card in a photo: its four corners, and the map into card coordinates."""

from __future__ import annotations

import numpy as np

CARD_RATIO = 85.6 / 54.0
# The card flattened to this size gives "card coordinates" (the layout is described there).
FLAT_W, FLAT_H = 1000, 631


def order_corners(points: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left."""
    pts = points.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    return np.array(
        [pts[s.argmin()], pts[d.argmin()], pts[s.argmax()], pts[d.argmax()]], dtype=np.float32
    )


def _aspect(quad: np.ndarray) -> float:
    top, bottom = np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])
    left, right = np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])
    return float((top + bottom) / max(left + right, 1e-6))


def find_card(bgr: np.ndarray) -> np.ndarray | None:
    """The card's corners in image coordinates, or None when no card-shaped outline is found.

    Works on the outline (edges), not on colours: cards lie on tables of any colour.
    """
    import cv2

    h, w = bgr.shape[:2]
    scale = 640 / max(h, w)
    small = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
    median = float(np.median(gray))
    edges = cv2.Canny(gray, max(10, int(0.5 * median)), min(255, int(1.2 * median)))
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=2)
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area_total = small.shape[0] * small.shape[1]
    best, best_score = None, 0.0
    for contour in contours:
        area = cv2.contourArea(contour)
        if area < 0.06 * area_total:
            continue
        hull = cv2.convexHull(contour)
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(approx) == 4:
            quad = order_corners(approx)
        else:
            rect = cv2.minAreaRect(hull)
            if cv2.contourArea(hull) / max(rect[1][0] * rect[1][1], 1) < 0.85:
                continue
            quad = order_corners(cv2.boxPoints(rect))
        aspect = _aspect(quad)
        if aspect < 1:
            aspect = 1 / aspect
        if not 1.2 <= aspect <= 2.1:
            continue
        score = cv2.contourArea(quad) * (1 - abs(aspect - CARD_RATIO) / CARD_RATIO)
        if score > best_score:
            best, best_score = quad, score
    if best is None:
        return None
    return best / scale


def to_card_coordinates(quad: np.ndarray) -> np.ndarray:
    """Homography from the image to the flattened card (FLAT_W × FLAT_H)."""
    import cv2

    target = np.array([[0, 0], [FLAT_W, 0], [FLAT_W, FLAT_H], [0, FLAT_H]], dtype=np.float32)
    return cv2.getPerspectiveTransform(quad.astype(np.float32), target)


def project(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Apply a homography to N × 2 points."""
    pts = np.hstack([points.reshape(-1, 2), np.ones((points.reshape(-1, 2).shape[0], 1))])
    mapped = pts @ homography.T
    return mapped[:, :2] / mapped[:, 2:3]


def flatten(bgr: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The card warped flat to FLAT_W × FLAT_H."""
    import cv2

    return cv2.warpPerspective(
        bgr, to_card_coordinates(quad), (FLAT_W, FLAT_H), flags=cv2.INTER_AREA
    )
