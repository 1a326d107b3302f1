from __future__ import annotations

from auditor.privacy_audit import make_canaries, with_canaries
from auditor.stages.base import RunContext, Stage, register
from auditor.train.images import prepare_images
from auditor.train.preprocess import prepare_tabular
from auditor.train.stage import train_models


class TrainStage(Stage):
    name = "train"
    depends_on = ("pii",)

    def run(self, ctx: RunContext) -> None:
        config = ctx.config
        if ctx.data.format == "imagefolder":
            prepared = prepare_images(ctx.data.path, config.train, ctx.seed)
        else:
            prepared = prepare_tabular(ctx.data.frame, ctx.data.target, config.train, ctx.pii, ctx.seed)
        x, y = prepared.x_train, prepared.y_train
        canaries = None
        if config.audit.enabled:
            # Canaries join the training set before training, so epsilon is accounted over them too.
            canaries = make_canaries(config.audit, x, y, len(prepared.classes), ctx.seed)
            x, y = with_canaries(x, y, canaries)
        runs = int(config.train.privacy.enabled) + int(config.train.baseline or not config.train.privacy.enabled)
        ctx.progress.begin("train", total=runs * config.train.epochs, unit="epochs")
        section, artifacts = train_models(
            config,
            prepared,
            ctx.seed,
            x_train=x,
            y_train=y,
            track=ctx.meter.track,
            on_epoch=lambda _e, _n: ctx.progress.advance(1),
        )
        ctx.training = section
        ctx.scratch["train"] = artifacts
        ctx.scratch["canaries"] = canaries


register(TrainStage())
