import random

import pytest
import torch

from tinylm import CharTokenizer, TinyLMError
from tinylm.corpora import BUILTIN_CORPORA
from tinylm.data import (
    MAX_TEXT_BYTES,
    check_text,
    decode_text_bytes,
    evaluation_windows,
    load_text,
    min_chars_needed,
    prepare_data,
    random_windows,
)


def error_of(function, *args, **kwargs) -> TinyLMError:
    with pytest.raises(TinyLMError) as info:
        function(*args, **kwargs)
    error = info.value
    assert error.message and str(error) == error.message
    return error


# -- decode_text_bytes / check_text ---------------------------------------------------------------


def test_utf8_text_with_chinese_is_decoded_unchanged():
    text = "Lily had a red ball.\n小明有一只小猫。\tTabs and\fform feeds are text too.\n"
    assert decode_text_bytes(text.encode("utf-8")) == text


def test_latin1_bytes_are_not_utf8_and_the_error_gives_the_bad_position():
    error = error_of(decode_text_bytes, "ok café".encode("latin-1"))
    assert error.code == "not_utf8"
    assert error.params == {"position": 6}  # the lone 0xE9 byte of "é"
    assert "UTF-8" in error.message


def test_utf16_text_is_refused_as_binary_because_of_its_nul_bytes():
    error = error_of(decode_text_bytes, "hello".encode("utf-16"))
    assert error.code == "binary_file"


def test_random_binary_with_nul_bytes_is_a_binary_file():
    data = random.Random(0).randbytes(4096) + b"\x00"
    assert error_of(decode_text_bytes, data).code == "binary_file"


def test_random_binary_without_nul_bytes_is_not_utf8():
    rng = random.Random(1)
    data = bytes(rng.randrange(128, 256) for _ in range(2000))  # high bytes only: never valid UTF-8 here
    error = error_of(decode_text_bytes, data)
    assert error.code == "not_utf8"
    position = error.params["position"]
    data[:position].decode("utf-8")  # everything before the reported byte is valid
    with pytest.raises(UnicodeDecodeError):
        data[position : position + 4].decode("utf-8")


def test_valid_utf8_full_of_control_characters_is_a_binary_file():
    text = "abc\x01\x02\x03\x1b" * 50
    assert error_of(decode_text_bytes, text.encode("utf-8")).code == "binary_file"
    assert error_of(check_text, text).code == "binary_file"


def test_a_few_control_characters_under_one_percent_are_accepted():
    text = "a" * 200 + "\x1b"  # one escape character in 201: 0.5 %
    assert check_text(text) == text


@pytest.mark.parametrize("data", [b"", b"   ", b" \n\t\r\n ", "\u3000\u00a0\n".encode()])
def test_empty_and_whitespace_only_texts_are_refused(data):
    error = error_of(decode_text_bytes, data)
    assert error.code == "empty_text"
    assert error_of(check_text, data.decode("utf-8")).code == "empty_text"


def test_a_utf8_bom_is_removed_and_a_bom_alone_counts_as_empty():
    assert decode_text_bytes(b"\xef\xbb\xbfhello \xe4\xb8\xad") == "hello 中"
    assert error_of(decode_text_bytes, b"\xef\xbb\xbf").code == "empty_text"
    assert error_of(decode_text_bytes, b"\xef\xbb\xbf \n").code == "empty_text"


def test_crlf_line_endings_are_kept_as_they_are():
    # check_text returns the text unchanged; "\r" is not counted as a control character.
    assert decode_text_bytes(b"line one\r\nline two\r\n") == "line one\r\nline two\r\n"
    assert check_text("a\r\nb") == "a\r\nb"


def test_text_over_the_byte_limit_is_refused_with_its_size():
    error = error_of(decode_text_bytes, b"a" * 2_000_001, max_bytes=2_000_000)
    assert error.code == "text_too_large"
    assert error.params == {"size_mb": 2.0, "limit_mb": 2.0}
    assert decode_text_bytes(b"a" * 2_000_000, max_bytes=2_000_000) == "a" * 2_000_000


def test_the_limit_counts_utf8_bytes_not_characters():
    text = "中" * 400  # 400 characters, 1200 bytes
    assert check_text(text, max_bytes=1200) == text
    assert error_of(check_text, text, max_bytes=1199).code == "text_too_large"


def test_the_default_limit_is_max_text_bytes():
    assert error_of(decode_text_bytes, b"a" * (MAX_TEXT_BYTES + 1)).code == "text_too_large"


# -- load_text ------------------------------------------------------------------------------------


def test_load_text_reads_a_utf8_file_by_path_or_string(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes("\ufeff小猫很可爱。\r\nThe cat.\n".encode())
    assert load_text(path) == "小猫很可爱。\r\nThe cat.\n"
    assert load_text(str(path)) == "小猫很可爱。\r\nThe cat.\n"


def test_load_text_generates_a_builtin_corpus_reproducibly():
    for name in BUILTIN_CORPORA:
        text = load_text(name, seed=3, n_chars=1000)
        assert 500 < len(text) <= 1000, name
        assert load_text(name, seed=3, n_chars=1000) == text
    assert load_text("stories-en", seed=1, n_chars=1000) != load_text("stories-en", seed=2, n_chars=1000)


def test_load_text_of_a_missing_file_or_a_directory_is_corpus_not_found(tmp_path):
    error = error_of(load_text, tmp_path / "missing.txt")
    assert error.code == "corpus_not_found"
    assert error.params["name"] == str(tmp_path / "missing.txt")
    assert "stories-en" in error.params["choices"]
    assert error_of(load_text, tmp_path).code == "corpus_not_found"
    assert error_of(load_text, "stories-fr").code == "corpus_not_found"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_text"),
        (b"\n\n   \n", "empty_text"),
        ("naïve".encode("latin-1") * 10, "not_utf8"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00" * 20, "binary_file"),
    ],
)
def test_load_text_refuses_bad_files_with_their_code(tmp_path, content, code):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    assert error_of(load_text, path).code == code


def test_load_text_refuses_a_file_over_the_limit_without_reading_it(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as file:
        file.truncate(MAX_TEXT_BYTES + 1)  # a sparse file: no 5 MB written
    error = error_of(load_text, path)
    assert error.code == "text_too_large"
    assert error.params["limit_mb"] == round(MAX_TEXT_BYTES / 1e6, 1)


# -- prepare_data ---------------------------------------------------------------------------------


def test_split_sizes_and_ids_round_trip_through_the_tokenizer(small_text, char_tokenizer):
    data = prepare_data(small_text, char_tokenizer, context_len=16, val_fraction=0.1)
    n = len(small_text)  # one token per character
    assert data.num_tokens == n
    assert len(data.train) == int(n * 0.9)
    assert len(data.val) == n - int(n * 0.9)
    assert data.train.dtype == torch.long and data.val.dtype == torch.long
    assert char_tokenizer.decode(data.train.tolist()) + char_tokenizer.decode(data.val.tolist()) == small_text


def test_a_larger_val_fraction_moves_tokens_from_train_to_val(small_text, char_tokenizer):
    small = prepare_data(small_text, char_tokenizer, context_len=16, val_fraction=0.1)
    large = prepare_data(small_text, char_tokenizer, context_len=16, val_fraction=0.3)
    assert len(large.val) > len(small.val) and len(large.train) < len(small.train)
    assert torch.equal(large.train, small.train[: len(large.train)])


def test_chinese_text_is_prepared_one_token_per_character():
    text = "小明有一只小猫。小猫很可爱。小明每天和小猫一起玩。\n" * 20
    tokenizer = CharTokenizer.from_text(text)
    data = prepare_data(text, tokenizer, context_len=8)
    assert data.num_tokens == len(text)
    assert tokenizer.decode(data.val.tolist()) == text[len(data.train) :]


@pytest.mark.parametrize("context_len", [2, 8, 16, 31])
@pytest.mark.parametrize("val_fraction", [0.1, 0.25, 0.49])
def test_the_shortest_accepted_text_fits_one_window_in_train_and_in_val(context_len, val_fraction):
    tokenizer = CharTokenizer.from_text("abcdefg")
    needed = min_chars_needed(context_len, val_fraction)
    text = ("abcdefg" * needed)[:needed]
    data = prepare_data(text, tokenizer, context_len, val_fraction)
    assert len(data.train) >= context_len + 1 and len(data.val) >= context_len + 1
    error = error_of(prepare_data, text[:-1], tokenizer, context_len, val_fraction)
    assert error.code == "text_too_short"
    assert error.params == {"tokens": needed - 1, "needed": needed, "context_len": context_len}


def test_a_text_shorter_than_one_context_window_is_too_short():
    tokenizer = CharTokenizer.from_text("hello world")
    error = error_of(prepare_data, "hello world", tokenizer, 16)
    assert error.code == "text_too_short"
    assert error.params["tokens"] == 11 and error.params["needed"] > 17


def test_prepare_data_checks_the_text_first():
    tokenizer = CharTokenizer.from_text("abc")
    assert error_of(prepare_data, " \n ", tokenizer, 4).code == "empty_text"


@pytest.mark.parametrize("val_fraction", [0.0, 0.5, -0.1, 1.0])
def test_a_val_fraction_outside_zero_to_half_is_a_programming_error(small_text, char_tokenizer, val_fraction):
    with pytest.raises(ValueError, match="val_fraction"):
        prepare_data(small_text, char_tokenizer, 16, val_fraction)


# -- random_windows / evaluation_windows ----------------------------------------------------------


def test_random_windows_targets_are_the_inputs_shifted_by_one():
    ids = torch.arange(500) * 7 % 101  # distinct neighbours, so a misaligned window would show
    x, y = random_windows(ids, batch_size=6, context_len=12, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (6, 12)
    assert torch.equal(x[:, 1:], y[:, :-1])
    for row_x, row_y in zip(x, y, strict=True):
        start = int((ids == row_x[0]).nonzero()[0])  # the values of ids repeat every 101 positions
        assert torch.equal(row_x, ids[start : start + 12])
        assert torch.equal(row_y, ids[start + 1 : start + 13])


def test_random_windows_stay_inside_the_data_even_at_its_end():
    ids = torch.arange(20)
    x, y = random_windows(ids, batch_size=200, context_len=19, generator=torch.Generator().manual_seed(1))
    assert torch.equal(x, torch.arange(19).expand(200, 19))  # only one window fits
    assert torch.equal(y, torch.arange(1, 20).expand(200, 19))
    x, y = random_windows(ids, batch_size=500, context_len=4, generator=torch.Generator().manual_seed(1))
    assert int(y.max()) == 19 and int(x.min()) == 0  # the first and the last window are both drawn


def test_the_same_generator_seed_gives_the_same_batch():
    ids = torch.arange(1000)

    def batch(seed):
        return random_windows(ids, 8, 16, torch.Generator().manual_seed(seed))

    x1, y1 = batch(42)
    x2, y2 = batch(42)
    x3, _ = batch(43)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def assert_real_windows(windows, ids, context_len):
    assert windows.shape[1] == context_len + 1
    for row in windows:
        start = int(row[0])  # ids = arange: a value is its own position
        assert start >= 0 and start + context_len < len(ids)
        assert torch.equal(row, ids[start : start + context_len + 1])


def test_evaluation_windows_on_small_data_tile_it_without_overlap():
    ids = torch.arange(100)
    windows = evaluation_windows(ids, context_len=8, max_tokens=10_000)
    assert_real_windows(windows, ids, 8)
    assert windows[:, 0].tolist() == list(range(0, 96, 8))  # (100 − 1) // 8 = 12 windows, 8 apart


def test_evaluation_windows_on_large_data_are_fixed_sorted_and_limited_by_max_tokens():
    ids = torch.arange(5000)
    windows = evaluation_windows(ids, context_len=16, max_tokens=320)
    assert windows.shape == (20, 17)
    assert_real_windows(windows, ids, 16)
    starts = windows[:, 0].tolist()
    assert starts == sorted(starts) and len(set(starts)) == 20
    assert starts[-1] > 2500  # spread over the data, not only its beginning
    assert torch.equal(windows, evaluation_windows(ids, context_len=16, max_tokens=320))
    assert not torch.equal(windows, evaluation_windows(ids, context_len=16, max_tokens=320, seed=7))


@pytest.mark.parametrize("n", [9, 10, 17, 25, 26, 60, 333])
@pytest.mark.parametrize("max_tokens", [1, 8, 40, 100_000])
def test_evaluation_windows_are_always_whole_windows_inside_the_data(n, max_tokens):
    ids = torch.arange(n)
    windows = evaluation_windows(ids, context_len=8, max_tokens=max_tokens)
    assert 1 <= len(windows) <= max(1, max_tokens // 8)
    assert_real_windows(windows, ids, 8)
