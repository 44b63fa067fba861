"""Messages name files, never where the service keeps them."""

from __future__ import annotations

from pathlib import Path

from bulkio.service.paths import without_paths


def test_paths_in_the_data_directory_become_file_names(tmp_path: Path) -> None:
    data = tmp_path / "data"
    text = f"{data}/jobs/job_1/input.csv is binary data; see {data.resolve()}/uploads/x.csv"
    assert without_paths(text, data) == "input.csv is binary data; see x.csv"
