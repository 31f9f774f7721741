"""ereput: e-reputation monitoring from the terminal."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/ereput/ereput"
USER_AGENT = f"ereput/{__version__} (+{PROJECT_URL})"
