"""String tables, one module per page (plus ``common``); each defines ``EN`` and ``ZH``."""
