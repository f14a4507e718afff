"""Strings of page 1 · Tokens & embeddings."""

EN = {
    "tokens.intro": "A language model never sees letters. A **tokenizer** cuts the text into pieces "
    "(tokens) and gives each a number, its **id**. The model's very first step is a lookup: row *id* of "
    "the embedding matrix **E** (V rows, one per token, each with d_model numbers), multiplied by "
    "√d_model. These rows start random and are learned during training, like every other weight. Where "
    "each token stands is added next (page 2, positional encoding).",
    "tokens.text": "Your text",
    "tokens.text_help": "Up to {n} characters. Anything you type is shown as plain text.",
    "tokens.example": "Example: {text}",
    "tokens.vocab_size": "BPE vocabulary size (256 bytes + merges)",
    "tokens.vocab_size_help": "How many tokens the comparison BPE tokenizer may have. Each token above "
    "256 is one merge. Fixed when the model itself uses BPE (then its own merges are shown).",
    "tokens.rows": "Rows of E to show",
    "tokens.rows_text": "tokens of my text",
    "tokens.rows_vocab": "the whole vocabulary",
    "tokens.chosen_token": "Token to compare",
    "tokens.k": "Number of neighbours",
    "tokens.split_title": "Text → tokens → ids",
    "tokens.char_title": "Character by character",
    "tokens.bpe_title": "Byte Pair Encoding (BPE)",
    "tokens.char_is_model": "This model's own tokenizer: one token per character, {n} tokens in its "
    "vocabulary (id 0 = unknown, shown as �).",
    "tokens.char_from_bpe": "For comparison only: the {n} characters that are whole tokens of this "
    "model's BPE (these ids are not the model's).",
    "tokens.bpe_is_model": "This model's own tokenizer: byte-level BPE with {n} tokens.",
    "tokens.bpe_trained": "For comparison only (the model does not use it): a BPE tokenizer trained on "
    "the {corpus} corpus, {n} tokens.",
    "tokens.bpe_fallback": "This model's training text is not available here, so the comparison BPE is "
    "trained on the built-in {corpus} corpus.",
    "tokens.bpe_ran_out": "The corpus ran out of pairs that occur at least twice: the BPE has only {n} "
    "tokens (you asked for {asked}).",
    "tokens.count": "{chars} characters → **{n}** tokens",
    "tokens.chip_title": "id {id}: {token}",
    "tokens.context_note": "Your text has {n} tokens for this model, but it reads at most {context} at a "
    "time (its context window). Looking tokens up works for all of them; when the model reads or writes "
    "text longer than its window, it only sees the most recent tokens (the window slides forward).",
    "tokens.col_tokenizer": "tokenizer",
    "tokens.split_explanation": "**Characters** are simple and cover every language "
    "(每个汉字就是一个词元), but a text needs many of them. **BPE** starts from the 256 possible bytes of "
    'UTF-8 and merges the most frequent neighbouring pair again and again, so frequent pieces such as " '
    'the" or "小明" become single tokens and the same text needs fewer ids. Pieces like `<e6 88>` are '
    "bytes of a character that BPE has not merged into a whole character yet. Hover over a token to see "
    "its id; equal ids have equal colours.",
    "tokens.merges_title": "The BPE merges in the order they were learned ({n})",
    "tokens.merges_explanation": "Training counts every pair of neighbouring tokens in the corpus, merges "
    "the most frequent pair into a new token, and repeats. Encoding a text applies the merges in exactly "
    "this order. A smaller vocabulary simply stops earlier: its merges are the first rows of this table.",
    "tokens.col_left": "left",
    "tokens.col_right": "right",
    "tokens.col_merged": "new token",
    "tokens.col_count": "pair count",
    "tokens.matrix_title": "The embedding matrix E",
    "tokens.matrix_explanation": "E has V = {v} rows (one per token) and d_model = {d} columns. Each row "
    "below is the vector the model looks up for that token: the same token always gets the same row, "
    "wherever it appears. Red is positive, blue negative.",
    "tokens.rows_cut": "Only the first {n} tokens are drawn.",
    "tokens.rows_empty": "Your text is empty, so the first rows of the vocabulary are shown.",
    "tokens.vocab_cut": "The first {n} of {v} rows are drawn.",
    "tokens.heatmap_title": "Rows of E (token × dimension)",
    "tokens.heatmap_hover": "token %{y} (id %{customdata})<br>dimension %{x}<br>value %{z:.4f}",
    "tokens.dimension": "dimension",
    "tokens.slide_title": "Embedding rows: {rows} tokens × first {dims} dimensions",
    "tokens.map_title": "A map of all token embeddings (PCA)",
    "tokens.map_plot_title": "Every token's row of E, projected onto the two main directions",
    "tokens.map_all": "all tokens",
    "tokens.map_text": "tokens of my text",
    "tokens.map_neighbours": "nearest neighbours",
    "tokens.map_chosen": "chosen token",
    "tokens.pc": "principal direction {k} ({share} of the variance)",
    "tokens.map_explanation": "Principal component analysis (PCA) finds the two directions along which "
    "the V rows of E differ most and draws each token at its coordinates along them. This keeps {share} "
    "of the variance, so the map is only a shadow of the real d_model-dimensional space: tokens that look "
    "close here may be far apart there. The neighbour table below measures closeness in the full space.",
    "tokens.neighbours_title": "Nearest neighbours of {token} (id {id})",
    "tokens.col_cosine": "cosine similarity",
    "tokens.neighbours_explanation": "Cosine similarity compares directions: 1 means the two rows point "
    "the same way, 0 unrelated, −1 opposite. After training, tokens that are used in similar places (for "
    "example two names, or two punctuation marks) often end up with similar rows. An untrained model's "
    "neighbours are random.",
}

ZH = {
    "tokens.intro": "语言模型从来看不到“字”。**分词器**先把文本切成一个个小片段（词元，token），"
    "再给每个词元一个编号，即 **id**。模型的第一步只是查表：取嵌入矩阵 **E** 的第 *id* 行（E 有 V 行，"
    "每个词元一行，每行 d_model 个数），再乘以 √d_model。这些行一开始是随机的，"
    "和其他权重一样在训练中学出来。每个词元所在的位置随后再加进来（见第 2 页：位置编码）。",
    "tokens.text": "输入文本",
    "tokens.text_help": "最多 {n} 个字符。你输入的任何内容都按纯文本显示。",
    "tokens.example": "示例：{text}",
    "tokens.vocab_size": "BPE 词表大小（256 个字节 + 合并次数）",
    "tokens.vocab_size_help": "用于对比的 BPE 分词器最多有多少个词元。超过 256 的每个词元对应一次合并。"
    "如果模型本身用的就是 BPE，则固定使用它自己的合并规则。",
    "tokens.rows": "显示 E 的哪些行",
    "tokens.rows_text": "我的文本中的词元",
    "tokens.rows_vocab": "整个词表",
    "tokens.chosen_token": "要比较的词元",
    "tokens.k": "近邻个数",
    "tokens.split_title": "文本 → 词元 → id",
    "tokens.char_title": "按字符切分",
    "tokens.bpe_title": "字节对编码（BPE）",
    "tokens.char_is_model": "这是本模型自己的分词器：每个字符一个词元，词表共 {n} 个词元（id 0 "
    "表示未知字符，显示为 �）。",
    "tokens.char_from_bpe": "仅用于对比：本模型 BPE 词表中恰好是完整单个字符的 {n} 个词元（这些 id "
    "不是模型使用的 id）。",
    "tokens.bpe_is_model": "这是本模型自己的分词器：字节级 BPE，共 {n} 个词元。",
    "tokens.bpe_trained": "仅用于对比（模型并不使用它）：在 {corpus} 语料上训练的 BPE 分词器，共 {n} "
    "个词元。",
    "tokens.bpe_fallback": "这里拿不到本模型的训练文本，所以用于对比的 BPE 改在内置语料 {corpus} 上训练。",
    "tokens.bpe_ran_out": "语料中出现至少两次的相邻词元对已经用完：这个 BPE 只有 {n} 个词元（你要求的是 "
    "{asked} 个）。",
    "tokens.count": "{chars} 个字符 → **{n}** 个词元",
    "tokens.chip_title": "id {id}：{token}",
    "tokens.context_note": "对这个模型来说，你的文本有 {n} 个词元，但它一次最多只能读 {context} "
    "个（上下文窗口）。查表对所有词元都适用；但当模型读或写超过窗口长度的文本时，"
    "它只能看到最近的那些词元（窗口向前滑动）。",
    "tokens.col_tokenizer": "分词器",
    "tokens.split_explanation": "**按字符切分**很简单，对任何语言都适用（每个汉字就是一个词元），"
    "但同一段文本需要很多个词元。**BPE** 从 UTF-8 的 256 种字节出发，"
    '反复把出现最频繁的相邻一对合并成新词元，于是像 " the"、"小明" 这样常见的片段会变成一个词元，'
    "同样的文本需要的 id 更少。像 `<e6 88>` 这样的片段，是某个汉字的部分字节，BPE "
    "还没有把它们合并成完整的字。把鼠标移到词元上可以看到它的 id；id 相同，颜色也相同。",
    "tokens.merges_title": "BPE 按学习顺序排列的合并规则（{n} 条）",
    "tokens.merges_explanation": "训练时统计语料中每一对相邻词元出现的次数，"
    "把最频繁的一对合并成一个新词元，然后重复。编码文本时，严格按这个顺序应用合并规则。词表更小，"
    "只是更早停下：它的合并规则就是这张表的前几行。",
    "tokens.col_left": "左",
    "tokens.col_right": "右",
    "tokens.col_merged": "新词元",
    "tokens.col_count": "出现次数",
    "tokens.matrix_title": "嵌入矩阵 E",
    "tokens.matrix_explanation": "E 有 V = {v} 行（每个词元一行）、d_model = {d} 列。"
    "下面每一行就是模型为该词元查到的向量：同一个词元不管出现在哪里，查到的都是同一行。红色为正，"
    "蓝色为负。",
    "tokens.rows_cut": "只画出前 {n} 个词元。",
    "tokens.rows_empty": "你的文本是空的，所以显示词表的前几行。",
    "tokens.vocab_cut": "只画出 {v} 行中的前 {n} 行。",
    "tokens.heatmap_title": "E 的行（词元 × 维度）",
    "tokens.heatmap_hover": "词元 %{y}（id %{customdata}）<br>维度 %{x}<br>数值 %{z:.4f}",
    "tokens.dimension": "维度",
    "tokens.slide_title": "嵌入向量：{rows} 个词元 × 前 {dims} 个维度",
    "tokens.map_title": "所有词元嵌入的地图（PCA）",
    "tokens.map_plot_title": "每个词元在 E 中的那一行，投影到两个主方向上",
    "tokens.map_all": "所有词元",
    "tokens.map_text": "我的文本中的词元",
    "tokens.map_neighbours": "最近邻",
    "tokens.map_chosen": "选中的词元",
    "tokens.pc": "第 {k} 主方向（占方差的 {share}）",
    "tokens.map_explanation": "主成分分析（PCA）找出 E 的 V 行差异最大的两个方向，"
    "并按每个词元在这两个方向上的坐标画点。这张图只保留了 {share} 的方差，只是真实 d_model "
    "维空间的一个“影子”：这里看着很近的词元，在原空间里可能离得很远。"
    "下面的近邻表是在完整空间中衡量远近的。",
    "tokens.neighbours_title": "{token}（id {id}）的最近邻",
    "tokens.col_cosine": "余弦相似度",
    "tokens.neighbours_explanation": "余弦相似度比较的是方向：1 表示两行指向同一方向，0 表示无关，−1 "
    "表示方向相反。训练之后，用法相似的词元（比如两个人名，或两个标点）往往会有相似的行。"
    "未训练模型的近邻是随机的。",
}
