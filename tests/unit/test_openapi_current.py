"""The UI's committed copy of the API schema is the schema the API serves.

The UI generates its typed client from `ui/openapi.json`; if the API changed and the copy did not,
the UI would be typed against an API that no longer exists. Refresh with:
`hydra-jobs openapi > ui/openapi.json && (cd ui && npm run gen:api)`.
"""

from __future__ import annotations

import json
from pathlib import Path

from hydra_jobs.config import Settings
from hydra_jobs.scheduler.api.app import create_app

UI_SCHEMA = Path(__file__).resolve().parents[2] / "ui" / "openapi.json"


def test_ui_schema_copy_is_current() -> None:
    served = create_app(Settings(ADMIN_TOKEN="x" * 32)).openapi()
    committed = json.loads(UI_SCHEMA.read_text())
    assert committed == json.loads(json.dumps(served)), (
        "ui/openapi.json is stale: run `hydra-jobs openapi > ui/openapi.json` and "
        "`npm run gen:api` in ui/"
    )
