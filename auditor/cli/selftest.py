"""``audit selftest``: check that auditor's own controls would notice a broken run."""

from __future__ import annotations

from pathlib import Path

import typer

from auditor.cli._common import ConsoleProgress, guarded
from auditor.errors import ExitCode

app = typer.Typer(help="Check that the audits would notice a broken run.", no_args_is_help=True)


def _cell(epsilon_hat: float, caught: bool | None) -> str:
    verdict = "-" if caught is None else ("CAUGHT" if caught else "not caught")
    return f"{epsilon_hat:>7.3f}  {verdict:<10}"


@app.command("privacy")
@guarded
def privacy_command(
    config_path: Path = typer.Argument(..., metavar="CONFIG", help="Path to audit.yaml."),
    seed: int | None = typer.Option(None, "--seed", help="Override the config's seed."),
) -> None:
    """Retrain the DP model with its noise removed and halved (claim unchanged); do the audits notice?

    Exit 0 when the white-box audit stays below epsilon on the correct run and catches both broken runs."""
    from auditor.config import load_config
    from auditor.privacy_audit.selftest import selftest_privacy

    config = load_config(config_path)
    result = selftest_privacy(config, seed, ConsoleProgress())
    first = result.rows[0]
    black_power = first.black_box.max_refutable if first.black_box is not None else None
    typer.echo(
        f"privacy self-test of {config_path} (seed {result.seed}): claimed epsilon {result.epsilon:.4g} at delta "
        f"{result.delta:.3g}, sigma {result.noise_multiplier:.4g}, {result.steps} steps"
    )
    typer.echo(
        f"white-box: {first.white_box.canaries} gradient canaries, can refute at most epsilon "
        f"{first.white_box.max_refutable:.3g}; black-box: "
        f"{first.black_box.canaries if first.black_box else 0} data canaries, at most {black_power or 0:.3g}"
    )
    typer.echo(
        f"{'run':<25} {'noise':>6} {'seen':>6}  {'white-box eps_hat':<19} {'black-box eps_hat':<19} {'MIA AUC':>7}"
    )
    for row in result.rows:
        black = _cell(row.black_box.epsilon_lower_bound, row.caught(row.black_box)) if row.black_box else "-"
        auc = f"{row.mia_auc:.3f}" if row.mia_auc is not None else "-"
        white = _cell(row.white_box.epsilon_lower_bound, row.caught(row.white_box))
        seen = f"{row.white_box.noise_ratio:.2f}x"
        typer.echo(f"{row.run:<25} {row.noise_scale:>5.2f}x {seen:>6}  {white:<19} {black:<19} {auc:>7}")
    verdict = "passed" if result.passed else "FAILED"
    typer.echo(
        f"self-test {verdict}: the white-box audit must stay below epsilon on the correct run and catch both "
        f"broken runs ({result.seconds:.1f} s)"
    )
    if not result.passed:
        raise typer.Exit(int(ExitCode.NOT_COMPLIANT))
