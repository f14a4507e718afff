import pytest
import torch

from tests.helpers import make_model
from tinylm import CharTokenizer, TrainConfig, Trainer
from tinylm.data import prepare_data
from tinylm.muon import CUBIC, Muon, newton_schulz
from tinylm.train import make_optimizers

SHAPES = [(32, 32), (96, 32), (32, 128), (7, 5)]


def random_matrix(shape, seed=0, condition=1e3):
    """A matrix with singular values spread over `condition` (gradients are ill-conditioned like this)."""
    generator = torch.Generator().manual_seed(seed)
    m, n = shape
    p, _ = torch.linalg.qr(torch.randn(m, m, generator=generator))
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=generator))
    k = min(m, n)
    sigma = torch.logspace(0, -torch.log10(torch.tensor(condition)).item(), k)
    return p[:, :k] @ torch.diag(sigma) @ q[:, :k].T


@pytest.mark.parametrize("shape", SHAPES)
def test_the_classic_iteration_converges_to_the_orthogonal_factor(shape):
    g = random_matrix(shape, condition=10.0)
    p, _, qt = torch.linalg.svd(g, full_matrices=False)
    orthogonal = newton_schulz(g, steps=40, coefficients=CUBIC)
    assert orthogonal.shape == g.shape
    assert torch.allclose(orthogonal, p @ qt, atol=1e-4)
    k = min(shape)
    gram = orthogonal.T @ orthogonal if shape[0] >= shape[1] else orthogonal @ orthogonal.T
    assert torch.allclose(gram, torch.eye(k), atol=1e-4)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_muons_quintic_keeps_the_singular_vectors_and_brings_every_singular_value_near_one(shape, seed):
    g = random_matrix(shape, seed=seed, condition=100.0)
    orthogonal = newton_schulz(g)  # five steps of (3.4445, −4.7750, 2.0315)
    singular_values = torch.linalg.svdvals(orthogonal)
    assert singular_values.min() > 0.65 and singular_values.max() < 1.25, singular_values
    # same singular vectors: Pᵀ O Q is diagonal (up to the tolerance of the approximation)
    p, _, qt = torch.linalg.svd(g, full_matrices=False)
    inner = p.T @ orthogonal @ qt.T
    off_diagonal = inner - torch.diag(torch.diagonal(inner))
    assert off_diagonal.abs().max() < 1e-3
    assert torch.linalg.svdvals(g).max() / torch.linalg.svdvals(g).min() > 50  # the input was far from it


def test_newton_schulz_orthogonalises_a_stack_matrix_by_matrix():
    stack = torch.stack([random_matrix((24, 8), seed=s) for s in range(3)])
    together = newton_schulz(stack)
    for i in range(3):
        assert torch.allclose(together[i], newton_schulz(stack[i]), atol=1e-5)


def test_first_muon_step_moves_the_weight_by_the_scaled_orthogonalised_gradient():
    weight = torch.nn.Parameter(random_matrix((48, 16), seed=3) * 0.1)
    before = weight.detach().clone()
    gradient = random_matrix((48, 16), seed=4, condition=100.0)
    weight.grad = gradient.clone()
    Muon([weight], lr=0.1, momentum=0.9).step()
    # first step: M = 0.1 G and U = 0.1 G + 0.9 M, a multiple of G; NS does not see the scale
    expected = before - 0.1 * (48 / 16) ** 0.5 * newton_schulz(gradient)
    assert torch.allclose(weight.detach(), expected, atol=1e-5)
    step = (before - weight.detach()) / (0.1 * 3**0.5)
    singular_values = torch.linalg.svdvals(step)
    assert singular_values.min() > 0.65 and singular_values.max() < 1.25


def test_muon_steps_matrices_of_one_shape_together_exactly_as_one_at_a_time():
    """Muon stacks same-shape matrices for Newton–Schulz: three steps of it, with weight decay and
    mixed shapes, must leave every weight where a Muon of its own would."""
    shapes = [(24, 8), (8, 8), (24, 8), (8, 8), (24, 8)]
    together = [torch.nn.Parameter(random_matrix(shape, seed=i) * 0.1) for i, shape in enumerate(shapes)]
    alone = [torch.nn.Parameter(p.detach().clone()) for p in together]
    grouped = Muon(together, lr=0.05, weight_decay=0.1)
    single = [Muon([p], lr=0.05, weight_decay=0.1) for p in alone]
    for step in range(3):
        for i, (a, b) in enumerate(zip(together, alone, strict=True)):
            gradient = random_matrix(a.shape, seed=100 * step + i, condition=50.0)
            a.grad, b.grad = gradient.clone(), gradient.clone()
        grouped.step()
        for optimizer in single:
            optimizer.step()
    for a, b in zip(together, alone, strict=True):
        assert torch.allclose(a.detach(), b.detach(), atol=1e-6)
    assert not torch.allclose(together[0].detach(), random_matrix(shapes[0], seed=0) * 0.1)  # they moved


def test_muon_refuses_vectors():
    with pytest.raises(ValueError, match="2-D"):
        Muon([torch.nn.Parameter(torch.ones(5))])


def test_make_optimizers_gives_the_blocks_matrices_to_muon_and_the_rest_to_adamw():
    model = make_model(tie_weights=False)
    muon, adam = make_optimizers(model, TrainConfig(optimizer="muon", muon_lr=0.03, learning_rate=2e-3))
    assert isinstance(muon, Muon) and isinstance(adam, torch.optim.AdamW)
    in_muon = {id(p) for group in muon.param_groups for p in group["params"]}
    in_adam = {id(p) for group in adam.param_groups for p in group["params"]}
    names = {id(p): name for name, p in model.named_parameters()}
    assert not in_muon & in_adam and in_muon | in_adam == set(names)
    assert {names[i] for i in in_muon} == {
        f"blocks.{layer}.{weight}.weight"
        for layer in range(2)
        for weight in ("attention.qkv", "attention.out_proj", "feed_forward.fc1", "feed_forward.fc2")
    }
    assert muon.param_groups[0]["lr"] == 0.03 and muon.param_groups[0]["lr_scale"] == pytest.approx(15.0)
    assert all(group["lr_scale"] == 1.0 for group in adam.param_groups)
    decay = {names[id(p)]: group["weight_decay"] for group in adam.param_groups for p in group["params"]}
    assert decay["token_embedding.weight"] == 0.1 and decay["lm_head.weight"] == 0.1
    assert decay["blocks.0.norm1.weight"] == 0.0 and decay["blocks.0.attention.qkv.bias"] == 0.0


def test_a_model_trained_with_muon_learns(small_text):
    tokenizer = CharTokenizer.from_text(small_text)
    model = make_model(vocab_size=tokenizer.vocab_size, context_len=16)
    data = prepare_data(small_text, tokenizer, context_len=16)
    settings = {"max_steps": 150, "batch_size": 8, "eval_interval": 50, "precision": "fp32"}
    trainer = Trainer(model, tokenizer, data, TrainConfig(optimizer="muon", **settings))
    trainer.run()
    losses = [loss for _, _, loss in trainer.history.val]
    assert trainer.state == "done"
    assert losses[0] > 3.5 and losses[-1] < 1.3, losses  # (AdamW with these settings: 3.68 → 1.63)
    untrained = make_model(vocab_size=tokenizer.vocab_size, context_len=16)
    moved = model.blocks[0].attention.qkv.weight - untrained.blocks[0].attention.qkv.weight
    assert moved.abs().max() > 0.01  # the matrices were trained (by Muon), not only the embeddings


@pytest.mark.parametrize("optimizer", ["adamw", "muon"])
def test_the_token_embedding_can_learn_faster_than_the_other_adamw_weights(
    small_text, optimizer, monkeypatch
):
    """embedding_lr_scale: the embedding alone gets scale x the schedule's rate; nothing else changes."""
    model = make_model(tie_weights=False)
    config = TrainConfig(optimizer=optimizer, learning_rate=2e-3, embedding_lr_scale=5.0)
    optimizers = make_optimizers(model, config)
    names = {id(p): name for name, p in model.named_parameters()}
    scale = {names[id(p)]: g["lr_scale"] for o in optimizers for g in o.param_groups for p in g["params"]}
    placed = [names[id(p)] for o in optimizers for g in o.param_groups for p in g["params"]]
    assert sorted(placed) == sorted(names.values())  # every weight in exactly one group
    assert scale["token_embedding.weight"] == 5.0 and scale["lm_head.weight"] == 1.0
    assert scale["blocks.0.norm1.weight"] == 1.0
    decay = {names[id(p)]: g["weight_decay"] for o in optimizers for g in o.param_groups for p in g["params"]}
    assert decay["token_embedding.weight"] == 0.1  # its group keeps the weight decay it had
    default = make_optimizers(make_model(tie_weights=False), TrainConfig(optimizer=optimizer))
    assert sum(len(o.param_groups) for o in default) == sum(len(o.param_groups) for o in optimizers) - 1
    # ... and in training every step's rates keep that ratio (the schedule moves them together)
    tokenizer = CharTokenizer.from_text(small_text)
    data = prepare_data(small_text, tokenizer, context_len=16)
    model = make_model(vocab_size=tokenizer.vocab_size, context_len=16)
    settings = {"max_steps": 12, "batch_size": 8, "eval_interval": 6, "warmup_steps": 4, "precision": "fp32"}
    config = TrainConfig(optimizer=optimizer, embedding_lr_scale=5.0, **settings)
    seen: list[dict[float, float]] = []
    original = torch.optim.AdamW.step

    def spy(self, *args, **kwargs):
        seen.append({group["lr_scale"]: group["lr"] for group in self.param_groups})
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", spy)
    Trainer(model, tokenizer, data, config).run()
    assert len(seen) == 12 and len({lrs[1.0] for lrs in seen}) > 3  # warm-up and decay moved the rate
    for lrs in seen:
        assert lrs[5.0] == pytest.approx(5.0 * lrs[1.0])
