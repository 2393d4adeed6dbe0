"""One Locust file per load profile; `python -m load run NAME` runs `load/profiles/NAME.py`."""
