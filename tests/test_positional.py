import math

import torch

from tinylm.positional import apply_rope, rope_angles, sinusoidal_positional_encoding


def test_sinusoidal_matches_the_paper_formula_element_by_element():
    max_len, d_model = 50, 16
    table = sinusoidal_positional_encoding(max_len, d_model)
    assert table.shape == (max_len, d_model)
    for p in range(max_len):
        for i in range(d_model // 2):
            angle = p / 10000 ** (2 * i / d_model)
            assert math.isclose(table[p, 2 * i].item(), math.sin(angle), abs_tol=1e-6)
            assert math.isclose(table[p, 2 * i + 1].item(), math.cos(angle), abs_tol=1e-6)


def test_sinusoidal_custom_base_and_odd_width():
    table = sinusoidal_positional_encoding(7, 5, base=100.0)
    assert table.shape == (7, 5)
    assert math.isclose(table[3, 4].item(), math.sin(3 / 100 ** (4 / 5)), abs_tol=1e-6)


def test_sinusoidal_dot_product_depends_only_on_offset():
    table = sinusoidal_positional_encoding(64, 32).double()
    offset = 5
    dots = [(table[p] @ table[p + offset]).item() for p in range(0, 50)]
    assert max(dots) - min(dots) < 1e-5


def test_rope_rotation_is_relative():
    torch.manual_seed(0)
    head_dim = 8
    q, k = torch.randn(head_dim), torch.randn(head_dim)

    def rotated_dot(p, j):
        cos_p, sin_p = rope_angles(torch.tensor([p]), head_dim)
        cos_j, sin_j = rope_angles(torch.tensor([j]), head_dim)
        return (apply_rope(q[None], cos_p, sin_p) @ apply_rope(k[None], cos_j, sin_j).T).item()

    assert math.isclose(rotated_dot(3, 1), rotated_dot(10, 8), abs_tol=1e-4)
    assert math.isclose(rotated_dot(0, 0), (q @ k).item(), abs_tol=1e-5)  # position 0: no rotation


def test_rope_preserves_norm():
    x = torch.randn(2, 3, 5, 8)
    cos, sin = rope_angles(torch.arange(5), 8)
    assert torch.allclose(apply_rope(x, cos, sin).norm(dim=-1), x.norm(dim=-1), atol=1e-5)
