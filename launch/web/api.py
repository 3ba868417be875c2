"""The JSON API (filled in by the check-in feature)."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
