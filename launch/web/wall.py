"""The live wall and attendance report pages (filled in by the wall feature)."""
from flask import Blueprint

bp = Blueprint("wall", __name__, url_prefix="/wall")
