"""In-app notices and notification channels (filled in by the events feature)."""
from flask import Blueprint

bp = Blueprint("notices", __name__, url_prefix="/notices")
