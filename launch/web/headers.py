"""Headers: which kind of answer a client wants, and the security headers of every answer (pages:
launch/__init__.py, static files: launch/assets.py)."""
from __future__ import annotations

from flask import request


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def security_headers_for(secure: bool) -> list[tuple[str, str]]:
    """The security headers of every answer (pages, and static files: launch/assets.py)."""
    headers = [
        ("Content-Security-Policy",
         "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
         "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:; "
         "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
         "object-src 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", "camera=(self), microphone=(), geolocation=()"),
    ]
    if secure:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers
