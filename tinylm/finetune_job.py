"""A fine-tuning job (kind "finetune"): a trained base model, a built-in task and a mode, as a job of the
job layer — queued, paused, stopped and followed like a training run, with the same events.

    job = FinetuneJob(spec, meta={"run_id": ...}, base=checkpoint_files(model, tokenizer, ...))
    for event in job.events(): ...       # prepared, step, eval, sample, point, end (tinylm.job)

The base arrives as its checkpoint's two files ({file name: bytes}, ``tinylm.job.JobInputs.base``), so
the job runs wherever a backend puts it; they are read with the same bounds as an uploaded checkpoint
(``tinylm.checkpoint.parse_checkpoint``). Then ``tinylm.finetune.prepare_finetune`` copies the base,
freezes what the mode freezes (LoRA: everything but A and B) and measures *forgetting before* (the
loss on the base's pre-training corpus); the run is the ordinary Trainer run of ``FinetuneSetup.trainer``,
its ``accuracy`` the task's held-out metric.

Events beyond a training run's:
    prepared  data also holds task, mode, metric_name, trainable, total, trainable_share (0..1),
              forgetting_before, lora_rank, base_fingerprint (its first 16 hex digits)
    point     just before the end: the result — metric, steps, seconds, seconds_per_step (median over
              the log intervals, training steps only), trainable, total, trainable_share,
              forgetting_before, forgetting_after (nats/token), val_loss (the task's text)

What it publishes (at each evaluation and at the end) is a plain TinyLM: for LoRA the *merged* model
(W + (α/r)·B·A), so every page can read it like any trained model. Its meta says what it is (``corpus``:
the task, ``pretraining_corpus``, ``finetune``: task, mode, LoRA settings, the base's fingerprint); the
adapter itself (A and B) is recovered from the merged model and its base on demand
(:func:`adapter_from_merged`, :func:`adapter_zip_bytes`): ΔW = W_merged − W_base has rank ≤ r.
"""

from __future__ import annotations

import copy
import io
import math
import statistics
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tinylm.adapter import ADAPTER_META, ADAPTER_WEIGHTS, model_fingerprint, save_adapter
from tinylm.checkpoint import META_FILE, WEIGHTS_FILE, Checkpoint, parse_checkpoint
from tinylm.config import ModelConfig, estimate_training_memory_bytes
from tinylm.corpora import BUILTIN_CORPORA
from tinylm.errors import TinyLMError
from tinylm.finetune import (
    MODE_LEARNING_RATES,
    RECOMMENDED_FINETUNE,
    FinetuneSetup,
    finetune_train_config,
    prepare_finetune,
    pretraining_loss,
)
from tinylm.finetune_data import metric_name
from tinylm.finetune_tasks import check_task_name
from tinylm.job import TrainingJob, jsonable
from tinylm.lora import (
    LoraSettings,
    apply_lora,
    delta_singular_values,
    lora_layers,
    merged_model,
    parse_targets,
    projection_weight,
)
from tinylm.model import TinyLM
from tinylm.plan import APP_LIMITS, RunLimits, RunSpec, estimate_seconds_per_step
from tinylm.plan import _refuse_beyond as refuse_beyond  # the same time, step and memory limits as training
from tinylm.train import Trainer, TrainEvent

TASK_EXAMPLES = 100  # held-out examples per evaluation of the metric (the final one included)
SAMPLE_TOKENS = 40  # a sample: one answer to the first held-out prompt (a line is at most 64 characters)
MAX_EVALS = 8


def finetune_spec(
    config: ModelConfig,
    meta: dict[str, Any],
    base_model: str,
    task: str,
    mode: str,
    rank: int = 8,
    targets: str = "q,k,v,o,ffn",
    steps: int | None = None,
    alpha: float = 16.0,
) -> RunSpec:
    """The spec of a fine-tuning run of a base (its config and meta; ``base_model``: how the app names it)
    with the task's recommended batch, steps and learning rate for the mode (tinylm.finetune)."""
    check_task_name(task)
    advice = RECOMMENDED_FINETUNE[task]
    rate = advice["learning_rate"] if mode == advice["mode"] else MODE_LEARNING_RATES.get(mode, 1e-2)
    corpus = meta.get("pretraining_corpus") or meta.get("corpus")
    return RunSpec.from_configs(
        config,
        {},
        kind="finetune",
        corpus=corpus if corpus in BUILTIN_CORPORA else "custom",
        text_name=task,
        finetune_task=task,
        finetune_mode=mode,
        lora_rank=int(rank),
        lora_alpha=float(alpha),
        lora_targets=targets,
        budget="steps",
        max_steps=int(steps or advice["max_steps"]),
        batch_size=advice["batch_size"],
        learning_rate=rate,
        warmup_steps=20,
        weight_decay=0.0 if mode == "lora" else 0.1,
        seed=0,
        base_model=base_model[:40],
        preset="finetune",
    )


def lora_settings(spec: RunSpec) -> LoraSettings | None:
    """The spec's LoRA settings (validated), or None for the other modes."""
    if spec.finetune_mode != "lora":
        return None
    settings = LoraSettings(
        rank=spec.lora_rank, alpha=float(spec.lora_alpha), targets=parse_targets(spec.lora_targets)
    )
    settings.validate()
    return settings


def finetune_schedule(steps: int) -> tuple[int, int]:
    """(log interval, evaluation interval) of a run of about ``steps`` steps: a loss point every few
    steps, and up to MAX_EVALS evaluations of the metric (each one greedy answers to TASK_EXAMPLES
    held-out prompts), at least two (the start and the end are always measured)."""
    log_interval = max(1, min(10, steps // 60))
    n_evals = min(MAX_EVALS, max(2, steps // 25))
    eval_interval = max(log_interval, math.ceil(steps / n_evals / log_interval) * log_interval)
    return log_interval, eval_interval


def finetune_config(spec: RunSpec, base: TinyLM, limits: RunLimits = APP_LIMITS):
    """The TrainConfig of a fine-tuning spec: the task's recommended settings with the spec's steps (or
    time budget), batch, learning rate, warm-up and seed; refused beyond ``limits`` like a training run."""
    check_task_name(spec.finetune_task)
    refuse_beyond(spec, limits, estimate_training_memory_bytes(base.config, spec.batch_size))
    if spec.budget == "time":
        steps = max(1, int(0.9 * spec.time_budget / estimate_seconds_per_step(base.config, spec.batch_size)))
        budget = {"time_budget": spec.time_budget, "max_steps": 100_000}
    else:
        steps = spec.max_steps
        budget = {"max_steps": spec.max_steps}
    log_interval, eval_interval = finetune_schedule(steps)
    return finetune_train_config(
        spec.finetune_task,
        spec.finetune_mode,
        **budget,
        batch_size=spec.batch_size,
        learning_rate=spec.learning_rate,
        warmup_steps=min(spec.warmup_steps, steps // 5),
        seed=spec.seed,
        log_interval=log_interval,
        eval_interval=eval_interval,
        sample_interval=eval_interval,
        sample_tokens=SAMPLE_TOKENS,
        task_examples=TASK_EXAMPLES,
    )


def read_base(files: dict[str, bytes] | None) -> Checkpoint:
    """The base model from its checkpoint files, read with an uploaded checkpoint's bounds."""
    if not files or not all(isinstance(files.get(name), bytes) for name in (WEIGHTS_FILE, META_FILE)):
        raise TinyLMError("finetune_no_base", "a fine-tuning run needs the base model's checkpoint files")
    return parse_checkpoint(files[WEIGHTS_FILE], files[META_FILE])


class FinetuneJob(TrainingJob):
    """One fine-tuning run (see the module docstring for its events)."""

    def __init__(
        self,
        spec: RunSpec,
        text: str | None = None,
        meta: dict[str, Any] | None = None,
        limits: RunLimits = APP_LIMITS,
        on_train_event: Callable[[Trainer, TrainEvent], None] | None = None,
        base: dict[str, bytes] | None = None,
    ) -> None:
        super().__init__(spec, None, meta, limits, on_train_event)
        self._base_files = base  # read once in _prepare, then dropped
        self._setup: FinetuneSetup | None = None

    def _prepare(self) -> Trainer | None:
        files, self._base_files = self._base_files, None
        spec = self.spec
        base = read_base(files)
        train_config = finetune_config(spec, base.model, self.limits)
        setup = prepare_finetune(
            base, spec.finetune_task, spec.finetune_mode, lora_settings(spec), train_config, seed=spec.seed
        )
        trainer = setup.trainer()
        self._setup = setup
        self.data_info = {
            "task": setup.task,
            "mode": setup.mode,
            "metric_name": metric_name(setup.task),
            "trainable": setup.trainable,
            "total": setup.total,
            "trainable_share": setup.trainable / setup.total,
            "forgetting_before": setup.forgetting_before,
            "forgetting_corpus": setup.base["corpus"] or "",
            "lora_rank": setup.lora.rank if setup.lora else 0,
            "base_fingerprint": setup.base["fingerprint"][:16],
            "tokens": setup.data.num_tokens,
            "train_tokens": len(setup.data.train),
            "val_tokens": len(setup.data.val),
            "vocab": setup.tokenizer.vocab_size,
            "sample_prompt": trainer.sample_prompt,
            "log_interval": train_config.log_interval,
            "eval_interval": train_config.eval_interval,
            "sample_interval": train_config.sample_interval,
        }
        return self._take(trainer)

    def _prepared_event(self, trainer: Trainer) -> dict[str, Any]:
        event = super()._prepared_event(trainer)
        event["parameters"] = self._setup.total if self._setup else event["parameters"]
        return event

    def _publish(self, trainer: Trainer, state: str | None = None) -> int:
        """A frozen plain copy of the model being fine-tuned (LoRA: merged), safe to share."""
        setup = self._setup
        model = merged_model(trainer.model) if setup.lora is not None else copy.deepcopy(trainer.model)
        model.eval()
        model.requires_grad_(False)
        accuracy = trainer.history.accuracy[-1][1] if trainer.history.accuracy else None
        record: dict[str, Any] = {
            "task": setup.task,
            "mode": setup.mode,
            "base": {k: setup.base[k] for k in ("fingerprint", "name", "corpus", "corpus_seed")},
        }
        if setup.lora is not None:
            record["lora"] = {**setup.lora.to_dict(), "targets": ",".join(setup.lora.targets)}
        meta = {
            **self.meta,
            "corpus": setup.task,
            "pretraining_corpus": setup.base["corpus"],
            "steps": trainer.step,
            "val_loss": trainer.history.val[-1][2] if trainer.history.val else None,
            "accuracy": accuracy,
            "train_config": trainer.config.to_dict(),
            "finetune": record,
        }
        if state is not None:
            meta["state"] = state
        history = jsonable(trainer.history.to_dict())
        self._published = Checkpoint(
            model=model, tokenizer=trainer.tokenizer, history=history, meta=jsonable(meta)
        )
        self._version += 1
        return self._version

    def events(self) -> Iterator[dict[str, Any]]:
        for event in super().events():
            if event["type"] == "end" and self._setup is not None and self._published is not None:
                yield {"type": "point", "point": self._result(event)}
            yield event
        self._setup = None

    def _result(self, end: dict[str, Any]) -> dict[str, Any]:
        """What the run reached and cost (the final metric is the last evaluation's)."""
        setup, published = self._setup, self._published
        history = published.history
        speeds = [row[1] for row in history.get("tokens_per_sec", []) if row[1]]
        tokens_per_step = setup.train_config.batch_size * setup.model.config.context_len
        after = None
        if setup.base["corpus"] is not None:
            base = setup.base
            corpus, seed, tokens = base["corpus"], base["corpus_seed"], base["forgetting_tokens"]
            after = pretraining_loss(published.model, setup.tokenizer, corpus, seed, tokens)
        accuracy = history.get("accuracy") or []
        val = history.get("val") or []
        return jsonable(
            {
                "task": setup.task,
                "mode": setup.mode,
                "metric_name": metric_name(setup.task),
                "metric": accuracy[-1][1] if accuracy else None,
                "state": end["status"],
                "steps": end["step"],
                "seconds": round(end["elapsed"], 3),
                "seconds_per_step": tokens_per_step / statistics.median(speeds) if speeds else None,
                "trainable": setup.trainable,
                "total": setup.total,
                "trainable_share": setup.trainable / setup.total,
                "val_loss": val[-1][2] if val else None,
                "forgetting_before": setup.forgetting_before,
                "forgetting_after": after,
                "lora_rank": setup.lora.rank if setup.lora else 0,
                "lora_targets": ",".join(setup.lora.targets) if setup.lora else "",
            }
        )


# ---------------------------------------------------------------------------------------------
# The adapter of a published LoRA model, recovered from its base
# ---------------------------------------------------------------------------------------------


@torch.no_grad()
def adapter_from_merged(base: TinyLM, merged: TinyLM, settings: LoraSettings) -> TinyLM:
    """A copy of ``base`` with LoRA layers whose (α/r)·B·A is the merged model's change.

    For each adapted part, ΔW = W_merged − W_base has rank ≤ r (it *is* (α/r)·B·A, up to float
    rounding); its truncated SVD ΔW ≈ U_r Σ_r V_rᵀ gives B = U_r Σ_r / (α/r) and A = V_rᵀ. The pair
    differs from the trained one (any B·M, M⁻¹·A has the same product) but the adapted model is the same.
    """
    if base.config.to_dict() != merged.config.to_dict():
        raise TinyLMError(
            "adapter_mismatch",
            "the fine-tuned model does not have its base's shape",
            base="?",
            expected=model_fingerprint(base)[:12],
            found="?",
        )
    adapted = copy.deepcopy(base)
    apply_lora(adapted, settings)
    merged_state = merged.state_dict()
    for path, layer in lora_layers(adapted):
        after = merged_state[f"{path}.weight"]
        for name in layer.A:
            rows = layer.rows(name)
            delta = (after[rows].double() - layer.base.weight[rows].double()).cpu()
            u, s, vh = torch.linalg.svd(delta, full_matrices=False)
            r = settings.rank
            layer.B[name].copy_((u[:, :r] * s[:r] / layer.scale).float())
            layer.A[name].copy_(vh[:r].float())
    return adapted.eval()


def adapter_zip_bytes(
    base: Checkpoint, merged: Checkpoint, settings: LoraSettings, task: str | None
) -> bytes:
    """The adapter of a merged LoRA model as a .zip of its two files (tinylm.adapter): a few KB."""
    adapted = adapter_from_merged(base.model, merged.model, settings)
    info = {
        "fingerprint": model_fingerprint(base.model),
        "name": base.meta.get("name"),
        "path": None,
        "config": base.model.config.to_dict(),
        "corpus": base.meta.get("pretraining_corpus") or base.meta.get("corpus"),
    }
    meta = {"finetune": merged.meta.get("finetune"), "steps": merged.meta.get("steps")}
    with tempfile.TemporaryDirectory() as folder:
        directory = save_adapter(
            Path(folder) / "adapter", adapted, settings, info, task=task, meta=jsonable(meta)
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in (ADAPTER_WEIGHTS, ADAPTER_META):
                archive.writestr(name, (directory / name).read_bytes())
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Why LoRA works: how low-rank the change of a weight matrix is
# ---------------------------------------------------------------------------------------------


def weight_change_spectrum(base: TinyLM, tuned: TinyLM, layer: int, part: str) -> np.ndarray:
    """σ₁ ≥ σ₂ ≥ … of ΔW = W_tuned − W_base for one projection ("q", "k", "v", "o", "fc1", "fc2") of two
    plain models of the same shape (a LoRA run's published model is merged: its ΔW has rank ≤ r)."""
    if not 0 <= layer < base.config.n_layers or base.config.to_dict() != tuned.config.to_dict():
        raise ValueError("the two models must have the same shape and that layer")
    return delta_singular_values(projection_weight(base, layer, part), projection_weight(tuned, layer, part))


def top_share(sigmas: np.ndarray, r: int) -> float:
    """Σ_{i≤r} σᵢ² / Σ σᵢ²: the share of the change (its squared Frobenius norm) the best rank-r matrix
    holds (Eckart–Young); 1.0 when nothing changed."""
    energy = np.asarray(sigmas, dtype=np.float64) ** 2
    total = float(energy.sum())
    return float(energy[: max(0, r)].sum() / total) if total > 0 else 1.0
