"""Site and attendee check-in pages (filled in by the check-in feature)."""
from flask import Blueprint

bp = Blueprint("checkin", __name__, url_prefix="/c")
