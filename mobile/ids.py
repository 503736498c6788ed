"""Semantics identifiers of every control a test or a screen reader must find.

Views and tests import the same names, so a renamed control breaks loudly.
"""

from __future__ import annotations

# Shared by every form screen.
FORM_ERROR = "form-error"
FORM_NOTICE = "form-notice"
STEP_INDICATOR = "step-indicator"
BACK = "nav-back"
# The dialog an unexpected error shows instead of the framework's crash box.
UNEXPECTED_RETRY = "unexpected-retry"

# 登录
LOGIN_ACCOUNT = "login-account"
LOGIN_PASSWORD = "login-password"
LOGIN_SUBMIT = "login-submit"
LOGIN_TO_REGISTER_NEW = "login-to-register-new"
LOGIN_TO_REGISTER_ENROLLED = "login-to-register-enrolled"
LOGIN_TO_RESET = "login-to-reset"

# 新生注册 / 在籍注册 / 找回密码 share field identifiers.
NAME = "field-name"
ID_NUMBER = "field-id-number"
TICKET_NUMBER = "field-ticket-number"
PHONE = "field-phone"
SMS_CODE = "field-sms-code"
SEND_SMS = "send-sms"
PASSWORD = "field-password"
PASSWORD_REPEAT = "field-password-repeat"
EXAM_DISTRICT = "field-exam-district"
ETHNICITY = "field-ethnicity"
POLITICAL_STATUS = "field-political-status"
EDUCATION = "field-education"
OCCUPATION = "field-occupation"
HUKOU = "field-hukou"
EMAIL = "field-email"
AGREE = "field-agree"
REGISTER_SUBMIT = "register-submit"
RESET_SUBMIT = "reset-submit"

# 图形验证码 (asked for by the server when a login or an SMS request looks risky).
CAPTCHA = "captcha"
CAPTCHA_IMAGE = "captcha-image"
CAPTCHA_ANSWER = "field-captcha"
CAPTCHA_REFRESH = "captcha-refresh"

# 身份证
IDCARD_CAMERA = "idcard-camera"
IDCARD_TAKE_PHOTO = "idcard-take-photo"
IDCARD_PICK_PHOTO = "idcard-pick-photo"
IDCARD_PROGRESS = "idcard-progress"
IDCARD_RETAKE = "idcard-retake"
IDCARD_CONFIRM = "idcard-confirm"
IDCARD_WARNINGS = "idcard-warnings"
IDCARD_MISMATCH = "idcard-mismatch"
IDCARD_USE_CARD_NAME = "idcard-use-card-name"
IDCARD_CONFIRMED = "idcard-confirmed"
IDCARD_CROP = "idcard-crop"
IDCARD_NEXT = "idcard-next"


# 证件照
PHOTO_CAMERA = "photo-camera"
PHOTO_TAKE = "photo-take"
PHOTO_PICK = "photo-pick"
PHOTO_PREVIEW = "photo-preview"
PHOTO_FIXED_PREVIEW = "photo-fixed-preview"
PHOTO_PROBLEMS = "photo-problems"
PHOTO_FIX = "photo-fix"
PHOTO_REPLACE_BACKGROUND = "photo-replace-background"
PHOTO_SUBMIT = "photo-submit"
PHOTO_RETAKE = "photo-retake"
PHOTO_CAPTION_BEFORE = "photo-caption-before"
PHOTO_CAPTION_AFTER = "photo-caption-after"
PHOTO_SPEC = "photo-spec"


def card_field(key: str) -> str:
    """Identifier of one field of the read card (e.g. "card-id_number")."""
    return f"card-{key}"


# 个人中心
PROFILE_NAME = "profile-name"
PROFILE_ID_NUMBER = "profile-id-number"
PROFILE_JOURNEY = "profile-journey"
PROFILE_NEXT_STEP = "profile-next-step"
PROFILE_GO_NEXT = "profile-go-next"
PROFILE_REVIEW = "profile-review"
PROFILE_SUBMIT_REVIEW = "profile-submit-review"
PROFILE_REFRESH = "profile-refresh"
PROFILE_REDO_MATERIALS = "profile-redo-materials"
LOGOUT = "logout"


def journey_step(key: str) -> str:
    """Identifier of one step row on 个人中心 (e.g. "journey-account")."""
    return f"journey-{key}"


# 人脸识别
LIVE_DIGITS = "live-digits"
LIVE_ATTEMPTS = "live-attempts"
LIVE_CAMERA = "live-camera"
LIVE_RECORD = "live-record"
LIVE_PICK = "live-pick"
LIVE_PROGRESS = "live-progress"
LIVE_RESULT = "live-result"
LIVE_STATUS = "live-status"
LIVE_RETRY = "live-retry"
LIVE_TIPS = "live-tips"
LIVE_REC = "live-rec"  # the countdown before, and the red dot with seconds left during
LIVE_NEXT = "live-next"


# 报考
ENROLL_SESSION = "enroll-session"
ENROLL_DISTRICT = "enroll-district"
ENROLL_SITE = "enroll-site"
ENROLL_MAJOR = "enroll-major"
ENROLL_COURSES = "enroll-courses"
ENROLL_TOTAL = "enroll-total"
ENROLL_CONFIRM = "enroll-confirm"
ENROLL_LOCKED = "enroll-locked"
ENROLL_MATERIALS = "enroll-materials"


def enroll_course(code: str) -> str:
    """Identifier of one course's check box (e.g. "course-00024")."""
    return f"course-{code}"


# 我的订单 and 缴费
ORDERS_LIST = "orders-list"
ORDERS_EMPTY = "orders-empty"
PAY_SUMMARY = "pay-summary"
PAY_QR = "pay-qr"
PAY_COUNTDOWN = "pay-countdown"
PAY_REFRESH = "pay-refresh"
PAY_QUERY = "pay-query"
PAY_STATUS = "pay-status"
PAY_RECEIPT = "pay-receipt"
PAY_TICKET = "pay-ticket"
PAY_CANCEL = "pay-cancel"
PAY_HOW = "pay-how"
PAY_SAME_PHONE = "pay-same-phone"
PAY_SAVE_QR = "pay-save-qr"


def order_card(order_id: int) -> str:
    return f"order-{order_id}"


def order_action(order_id: int, action: str) -> str:
    """A button of one order: pay, cancel, receipt, ticket (e.g. "order-3-pay")."""
    return f"order-{order_id}-{action}"
