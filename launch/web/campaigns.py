"""Follow-up campaigns pages (filled in by the campaigns feature)."""
from flask import Blueprint

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
