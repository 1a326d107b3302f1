import auditor

EXPECTED = {
    "AuditConfig",
    "AuditError",
    "Evidence",
    "ExitCode",
    "HistoryStore",
    "InputError",
    "PiiConfig",
    "Stage",
    "Task",
    "__version__",
    "dump_evidence",
    "load_config",
    "load_evidence",
    "parse_evidence",
    "register_stage",
    "register_task",
    "render",
    "run",
    "scan",
    "verify",
}


def test_public_api_is_pinned() -> None:
    assert set(auditor.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(auditor, name) is not None


def test_importing_auditor_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, auditor, auditor.cli; print('torch' in sys.modules, 'weasyprint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_extension_axes_are_the_registries() -> None:
    from auditor.stages import Stage, register
    from auditor.tasks import Task
    from auditor.tasks import register as register_task

    assert auditor.Task is Task and auditor.register_task is register_task
    assert auditor.Stage is Stage and auditor.register_stage is register
