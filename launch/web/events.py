"""Launch events pages (filled in by the events feature)."""
from flask import Blueprint

bp = Blueprint("events", __name__, url_prefix="/events")
