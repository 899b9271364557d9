"""symcorr.outputs: output folders checked before work, written atomically, one run per folder."""

import json

import pytest

from symcorr.errors import SpecError
from symcorr.outputs import MANIFEST, OutputFolder, atomic_write_text, check_output_path


def test_a_file_or_an_unwritable_place_is_refused_before_any_work(tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(SpecError, match="exists and is not a folder"):
        check_output_path(f)
    with pytest.raises(SpecError, match="not a folder"):
        check_output_path(f / "sub")
    with pytest.raises(SpecError, match="(not writable|cannot write)"):
        check_output_path("/proc/symcorr-report")  # read-only even for root
    assert check_output_path(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_a_committed_folder_holds_one_run_with_its_manifest(tmp_path):
    out = tmp_path / "report"
    with OutputFolder(out, command="test", settings={"epochs": 5}, seed=3) as folder:
        folder.write_text("report.md", "five epochs")
        folder.write_text("data/a.csv", "1,2")
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["settings"] == {"epochs": 5} and manifest["seed"] == 3
    assert set(manifest["files"]) == {"report.md", "data/a.csv"}
    assert manifest["versions"]["symcorr"] and manifest["versions"]["torch"]
    # a second run replaces the first entirely: no file of the old run survives next to the new ones
    with OutputFolder(out, command="test", settings={"epochs": 2}) as folder:
        folder.write_text("report.md", "two epochs")
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "report.md"]
    assert (out / "report.md").read_text() == "two epochs"
    assert not list(tmp_path.glob(".report.*"))


def test_an_interrupted_run_leaves_the_previous_run_untouched(tmp_path):
    out = tmp_path / "report"
    with OutputFolder(out, command="test", settings={"epochs": 5}) as folder:
        folder.write_text("report.md", "five epochs")
        folder.write_text("hot.csv", "5-epoch data")
    with pytest.raises(KeyboardInterrupt):
        with OutputFolder(out, command="test", settings={"epochs": 2}) as folder:
            folder.write_text("report.md", "two epochs")
            raise KeyboardInterrupt
    assert (out / "report.md").read_text() == "five epochs" and (out / "hot.csv").exists()
    assert json.loads((out / MANIFEST).read_text())["settings"] == {"epochs": 5}
    # the next run starts from a clean staging folder (the partial files are not carried over)
    with OutputFolder(out, command="test") as folder:
        assert list(folder.path.iterdir()) == []
        folder.write_text("x.md", "x")
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "x.md"]


def test_file_names_stay_inside_the_folder(tmp_path):
    with OutputFolder(tmp_path / "o", command="t") as folder:
        for bad in ("../escape.md", "/abs.md", ""):
            with pytest.raises(SpecError):
                folder.file(bad)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "one")
    atomic_write_text(tmp_path / "a.txt", "two")
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"] and (tmp_path / "a.txt").read_text() == "two"
