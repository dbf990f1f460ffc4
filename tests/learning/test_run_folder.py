"""The run folder's sample log: appended at checkpoints, cut back to the checkpoint on resume."""

import json

import pytest

from tcl_circuits.learning.run_folder import SampleLog


def _records(n, start=0):
    return [{"sample": k, "loss": 0.5 * k} for k in range(start, start + n)]


def test_flush_appends_only_new_records_and_reports_the_count(tmp_path):
    log = SampleLog(tmp_path)
    for record in _records(3):
        log.append(record)
    assert log.flush() == {"sample_count": 3}
    for record in _records(2, start=3):
        log.append(record)
    assert log.flush() == {"sample_count": 5}
    lines = (tmp_path / SampleLog.FILE).read_text().splitlines()
    assert [json.loads(line) for line in lines] == _records(5)


def test_resume_cuts_records_after_the_checkpoint_and_a_half_written_line(tmp_path):
    log = SampleLog(tmp_path)
    for record in _records(4):
        log.append(record)
    state = log.flush()  # the checkpoint stores this
    for record in _records(3, start=4):
        log.append(record)
    log.flush()  # written, but the run died before its checkpoint
    with open(tmp_path / SampleLog.FILE, "a") as handle:
        handle.write('{"sample": 7, "lo')  # and a crash in the middle of a line
    resumed = SampleLog(tmp_path, state)
    assert resumed.records == _records(4)
    resumed.append(_records(1, start=4)[0])
    resumed.flush()
    lines = (tmp_path / SampleLog.FILE).read_text().splitlines()
    assert [json.loads(line) for line in lines] == _records(5)


def test_a_fresh_log_starts_empty_and_a_short_file_is_an_error(tmp_path):
    (tmp_path / SampleLog.FILE).write_text('{"sample": 0}\n')
    assert SampleLog(tmp_path).records == []
    assert not (tmp_path / SampleLog.FILE).exists()
    (tmp_path / SampleLog.FILE).write_text('{"sample": 0}\n')
    with pytest.raises(ValueError, match="1 complete records, the checkpoint 2"):
        SampleLog(tmp_path, {"sample_count": 2})


def test_checkpoints_from_before_the_log_resume_with_their_records(tmp_path):
    resumed = SampleLog(tmp_path, {"sample_records": _records(2)})
    assert resumed.records == _records(2)
    assert resumed.flush() == {"sample_count": 2}
    assert len((tmp_path / SampleLog.FILE).read_text().splitlines()) == 2
