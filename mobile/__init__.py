"""The Zikao Flet app: runs on the phone, or in web mode on a desktop for testers."""
