"""Strings of page 3, self-attention step by step."""

EN = {
    "attention.intro": "Self-attention lets every token gather information from the tokens before it. "
    "Below, one layer of the active model processes **your** text, one matrix at a time: the input X, the "
    "projections W_Q, W_K, W_V, the queries, keys and values, their dot products, the scaling by 1/√d_k, "
    "the causal mask, the softmax and the weighted sum of values — then all heads together.",
    "attention.made_up_note": "Every number on this page is computed by the real model's weights (and "
    "checked against its own forward pass at the bottom). Articles that explain attention with “我 爱 吃 "
    "饼 干” usually show made-up numbers; these are not.",
    "attention.text": "Your text (short: the first tokens are used)",
    "attention.text_help": "Up to {max_tokens} tokens are shown, so that every matrix fits on the screen "
    "with its numbers.",
    "attention.preset_zh": "Example: 我爱吃饼干",
    "attention.preset_en": "Example: I love cake.",
    "attention.layer_help": "Which Transformer block to look at (counting from 0, as in the code).",
    "attention.head_help": "Which attention head (counting from 0). Each head has its own W_Q, W_K, W_V.",
    "attention.unscaled_toggle": "Compare without ÷√d_k",
    "attention.quiz_toggle": "Guess first, then reveal",
    "attention.quiz_help": "For class: the matrices that give the answer away stay hidden until you have "
    "guessed which earlier token the chosen query attends to most.",
    "attention.chip_title": "position {position} · id {id}",
    "attention.cropped": "Your text has {n} tokens; this page uses the first {shown} so every matrix stays "
    "readable. Because the model is causal, these tokens get exactly the same numbers as inside the full "
    "text (token t only ever sees tokens 0..t). The model itself reads at most {context} tokens at a time "
    "(its context window); when generating longer texts the window moves forward.",
    "attention.step_x": "1 · X: what the attention layer reads",
    "attention.x_pre": "This model is **pre-norm** (like GPT-2): X is the block's input x after its first "
    "LayerNorm, X = LN₁(x). One row per token, d_model numbers per row.",
    "attention.x_post": "This model is **post-norm** (like the original paper): X is the block's input x "
    "itself; the LayerNorm comes after the residual addition, LN₁(x + Attention(x)).",
    "attention.x_source_first": "In layer 0, x is the token embedding (× √d_model) plus the positional "
    "encoding.",
    "attention.x_source_later": "In layer {layer}, x is the residual stream after the blocks before it.",
    "attention.fig_x": "X  ({rows} tokens × {cols} numbers)",
    "attention.large_matrix_note": "{cols} columns are too many to print in the cells: hover over a cell "
    "to read it, or download the table.",
    "attention.step_w": "2 · W_Q, W_K, W_V of head {head}",
    "attention.w_explain": "Three learned matrices turn each token's vector into a *query* (what am I "
    "looking for?), a *key* (what do I contain?) and a *value* (what do I pass on?). The model stores them "
    "for all heads in one d_model × 3·d_model matrix; head {head} uses columns {lo}…{hi} of each part: "
    "d_model × d_k = {d_model} × {d_k}. The biases b_Q, b_K, b_V are included in Q, K, V below.",
    "attention.fig_w": "{name} · head {head}  ({rows} × {cols})",
    "attention.w_numbers_note": "These {rows} × {cols} matrices are shown without numbers (too many "
    "cells); hover to read a value. Red is positive, blue negative.",
    "attention.step_qkv": "3 · Q, K, V of head {head}",
    "attention.qkv_explain": "Q = X·W_Q + b_Q, and likewise K and V: one row per token, d_k = {d_k} "
    "numbers per row.",
    "attention.rope_note": "This model uses rotary positions (RoPE): Q and K are shown after being rotated "
    "by their positions, which is how the position enters the dot products.",
    "attention.fig_qkv": "{name} · head {head}  ({rows} × {cols})",
    "attention.step_query": "Pick a query token",
    "attention.query_select": "Query token (highlighted row below)",
    "attention.query_help": "The row whose attention is explained in detail.",
    "attention.quiz_question": "**Your guess:** in layer {layer}, head {head}, which token does {query} "
    "attend to most? (Only itself and earlier tokens are possible.)",
    "attention.quiz_guess": "Pick one token",
    "attention.quiz_reveal": "Reveal the model's answer",
    "attention.quiz_hidden": "The scores and weights below stay hidden until you reveal the answer.",
    "attention.quiz_right": "Right! The model puts the most weight on {token}: {weight}.",
    "attention.quiz_wrong": "Not this time: the model puts the most weight on {token} ({weight}); your "
    "guess {guess} gets {guess_weight}.",
    "attention.quiz_again": "New round",
    "attention.quiz_answer_row": "Quiz answer: in the highlighted row {query}, the largest weight is on "
    "{token}.",
    "attention.step_scores": "4 · QKᵀ: how well each query matches each key",
    "attention.scores_explain": "Entry (i, j) is the dot product of query i with key j: large when the two "
    "vectors point the same way. For example, for the highlighted query and its strongest key:",
    "attention.fig_scores": "QKᵀ · head {head}  (raw scores)",
    "attention.step_scale": "5 · Scaling by 1/√d_k",
    "attention.scale_explain": "A dot product of d_k = {d_k} numbers grows with d_k: with random "
    "unit-variance entries its standard deviation is √d_k. Dividing by √d_k = {sqrt} keeps the scores "
    "around ±1, so the softmax stays soft and gradients keep flowing. Switch on “without ÷√d_k” in the "
    "controls to compare.",
    "attention.fig_scaled": "QKᵀ / √d_k · head {head}",
    "attention.step_mask": "6 · The causal mask",
    "attention.mask_explain": "GPT is a *causal* language model: it predicts the next token, so token i "
    "may only look at tokens 0..i. Every score above the diagonal (a later token) is set to −∞, which the "
    "softmax turns into exactly 0.",
    "attention.fig_masked": "Masked scores · head {head}  (−∞ above the diagonal)",
    "attention.step_softmax": "7 · Softmax: scores become attention weights",
    "attention.softmax_explain": "Each row is turned into a probability distribution: all weights are ≥ 0 "
    "and each row sums to 1. Masked entries get weight 0. These are the same weights the model returns "
    "with return_attention=True.",
    "attention.fig_weights": "Attention weights A · layer {layer} · head {head}",
    "attention.rows_sum": "Every row sums to 1 (largest deviation: {worst}).",
    "attention.unscaled_title": "Without the scaling",
    "attention.unscaled_explain": "The same masked scores, but without dividing by √d_k — all scores are "
    "{sqrt} times larger (√{d_k}). The softmax becomes peakier: most of the weight lands on one token, the "
    "entropy of every row drops, and during training the gradients of the other tokens would nearly vanish.",
    "attention.fig_unscaled": "softmax(QKᵀ) without ÷√d_k · head {head}",
    "attention.fig_entropy": "How spread out each row is: entropy in nats (0 = all weight on one token)",
    "attention.entropy_scaled": "entropy with ÷√d_k",
    "attention.entropy_unscaled": "entropy without ÷√d_k",
    "attention.entropy_axis": "entropy (nats)",
    "attention.query_axis": "query token",
    "attention.col_query": "query",
    "attention.col_key": "key",
    "attention.col_weight": "weight",
    "attention.col_weight_unscaled": "weight without ÷√d_k",
    "attention.col_max_weight": "largest weight",
    "attention.col_max_weight_unscaled": "largest weight without ÷√d_k",
    "attention.row_title": "The row of {query}, step by step",
    "attention.step_output": "8 · Weights × V: the head's output",
    "attention.output_explain": "Each token's output is a weighted average of the value vectors of the "
    "tokens it may see, with the attention weights as the mix. The highlighted row is the new vector for "
    "{query}.",
    "attention.fig_head_output": "head {head} output = A·V  ({rows} × {cols})",
    "attention.step_multihead": "9 · Multi-head attention",
    "attention.multihead_explain": "The model runs {heads} heads side by side, each on its own d_k = "
    "d_model / H = {d_model} / {heads} = {d_k} numbers, so each head can look for something different. "
    "Their outputs are concatenated back to d_model = {d_model} numbers per token and mixed by one more "
    "learned matrix W_O.",
    "attention.head_title": "head {head}",
    "attention.fig_all_heads": "Attention weights of every head in layer {layer}",
    "attention.fig_concat": "Concat: the {heads} head outputs side by side  ({rows} × {cols})",
    "attention.fig_wo": "W_O  ({size} × {size})",
    "attention.fig_sublayer_output": "Concat · W_O + b_O: the attention sub-layer's output ({rows} × {cols})",
    "attention.check_title": "Check: these are the model's own numbers",
    "attention.check_quantity": "compared with",
    "attention.check_difference": "largest difference",
    "attention.check_ok": "equal?",
    "attention.check_weights": "weights vs model(…, return_attention=True).attentions[{layer}]",
    "attention.check_output": "output vs the model's attention sub-layer",
    "attention.check_stream": "residual stream after the sub-layer vs the model's forward pass",
    "attention.check_passed": "Equal up to float rounding: the step-by-step computation above is exactly "
    "what the model does.",
    "attention.check_failed": "The step-by-step numbers differ from the model's — please report this.",
}

ZH = {
    "attention.intro": "自注意力让每个词元从它前面的词元那里收集信息。下面，当前模型的一层会处理**你输入的"
    "**文本，一次展示一个矩阵：输入 X、投影矩阵 W_Q、W_K、W_V，查询、键和值，它们的点积，除以 √d_k 的缩放，"
    "因果掩码，softmax，以及对值向量的加权求和——最后再看所有注意力头合在一起。",
    "attention.made_up_note": "本页的每个数字都由真实模型的权重计算得出（并在页面底部与模型自己的前向计算核"
    "对）。很多讲解注意力的文章用“我 爱 吃 饼 干”举例，但那些数字是编出来的；这里的不是。",
    "attention.text": "你的文本（尽量短：只使用前面的词元）",
    "attention.text_help": "最多展示 {max_tokens} 个词元，这样每个矩阵连同数字都能放进屏幕。",
    "attention.preset_zh": "示例：我爱吃饼干",
    "attention.preset_en": "示例：I love cake.",
    "attention.layer_help": "要查看哪一个 Transformer 块（和代码一样从 0 开始编号）。",
    "attention.head_help": "要查看哪一个注意力头（从 0 开始编号）。每个头都有自己的 W_Q、W_K、W_V。",
    "attention.unscaled_toggle": "对比：不除以 √d_k",
    "attention.quiz_toggle": "先猜，再揭晓",
    "attention.quiz_help": "课堂用：在你猜出所选查询词元最关注哪个前面的词元之前，会泄露答案的矩阵都先隐藏"
    "起来。",
    "attention.chip_title": "位置 {position} · 编号 {id}",
    "attention.cropped": "你的文本有 {n} 个词元；为了让每个矩阵都清晰可读，本页只使用前 {shown} 个。由于模"
    "型是因果的（第 t 个词元只能看到第 0..t 个词元），这些词元的数值和在完整文本中完全相同。模型本身一次最"
    "多读取 {context} 个词元（上下文窗口）；生成更长的文本时，窗口会向前移动。",
    "attention.step_x": "1 · X：注意力层读入的内容",
    "attention.x_pre": "这个模型采用**前置归一化（pre-norm）**（与 GPT-2 相同）：X 是块的输入 x 经过第一个"
    "层归一化之后的结果，X = LN₁(x)。每个词元一行，每行 d_model 个数。",
    "attention.x_post": "这个模型采用**后置归一化（post-norm）**（与原论文相同）：X 就是块的输入 x 本身；层"
    "归一化在残差相加之后进行，即 LN₁(x + Attention(x))。",
    "attention.x_source_first": "在第 0 层，x 是词元嵌入（乘以 √d_model）加上位置编码。",
    "attention.x_source_later": "在第 {layer} 层，x 是经过前面各个块之后的残差流。",
    "attention.fig_x": "X（{rows} 个词元 × {cols} 个数）",
    "attention.large_matrix_note": "{cols} 列太多，无法在格子里印出数字：把鼠标停在格子上即可读数，或下载表"
    "格。",
    "attention.step_w": "2 · 第 {head} 个头的 W_Q、W_K、W_V",
    "attention.w_explain": "三个可学习的矩阵把每个词元的向量变成一个*查询*（我在找什么？）、一个*键*（我包"
    "含什么？）和一个*值*（我要传递什么？）。模型把所有头的这三个矩阵存成一个 d_model × 3·d_model 的大矩阵"
    "；第 {head} 个头使用每一部分的第 {lo}…{hi} 列：d_model × d_k = {d_model} × {d_k}。偏置 b_Q、b_K、b_V "
    "已经包含在下面的 Q、K、V 中。",
    "attention.fig_w": "{name} · 第 {head} 个头（{rows} × {cols}）",
    "attention.w_numbers_note": "这些 {rows} × {cols} 的矩阵格子太多，不显示数字；把鼠标停在格子上即可读数"
    "。红色为正，蓝色为负。",
    "attention.step_qkv": "3 · 第 {head} 个头的 Q、K、V",
    "attention.qkv_explain": "Q = X·W_Q + b_Q，K 和 V 同理：每个词元一行，每行 d_k = {d_k} 个数。",
    "attention.rope_note": "这个模型使用旋转位置编码（RoPE）：这里显示的 Q 和 K 已经按各自的位置旋转过，位"
    "置信息正是这样进入点积的。",
    "attention.fig_qkv": "{name} · 第 {head} 个头（{rows} × {cols}）",
    "attention.step_query": "选一个查询词元",
    "attention.query_select": "查询词元（下面高亮的那一行）",
    "attention.query_help": "详细讲解这一行的注意力。",
    "attention.quiz_question": "**猜一猜**：在第 {layer} 层、第 {head} 个头中，{query} 最关注哪个词元？（只"
    "能是它自己或它前面的词元。）",
    "attention.quiz_guess": "选一个词元",
    "attention.quiz_reveal": "揭晓模型的答案",
    "attention.quiz_hidden": "在你揭晓答案之前，下面的分数和权重都先隐藏。",
    "attention.quiz_right": "猜对了！模型把最大的权重给了 {token}：{weight}。",
    "attention.quiz_wrong": "这次没猜中：模型把最大的权重给了 {token}（{weight}）；你猜的 {guess} 得到 "
    "{guess_weight}。",
    "attention.quiz_again": "再来一轮",
    "attention.quiz_answer_row": "竞猜答案：在高亮的 {query} 这一行里，权重最大的是 {token}。",
    "attention.step_scores": "4 · QKᵀ：每个查询和每个键有多匹配",
    "attention.scores_explain": "第 (i, j) 项是查询 i 和键 j 的点积：两个向量方向越一致，数值越大。例如，高"
    "亮的查询和它最强的键：",
    "attention.fig_scores": "QKᵀ · 第 {head} 个头（原始分数）",
    "attention.step_scale": "5 · 乘以 1/√d_k 进行缩放",
    "attention.scale_explain": "d_k = {d_k} 个数的点积会随 d_k 变大：如果各分量是方差为 1 的随机数，点积的"
    "标准差就是 √d_k。除以 √d_k = {sqrt} 让分数保持在 ±1 左右，softmax 就不会过于尖锐，梯度也能顺利传递。在"
    "控件里打开“不除以 √d_k”即可对比。",
    "attention.fig_scaled": "QKᵀ / √d_k · 第 {head} 个头",
    "attention.step_mask": "6 · 因果掩码",
    "attention.mask_explain": "GPT 是*因果*语言模型：它预测下一个词元，所以第 i 个词元只能看第 0..i 个词元"
    "。对角线以上（更靠后的词元）的分数全部设为 −∞，softmax 会把它们变成恰好为 0 的权重。",
    "attention.fig_masked": "加掩码后的分数 · 第 {head} 个头（对角线以上为 −∞）",
    "attention.step_softmax": "7 · Softmax：分数变成注意力权重",
    "attention.softmax_explain": "每一行都被变成一个概率分布：所有权重 ≥ 0，每行之和为 1，被遮住的位置权重"
    "为 0。这正是模型在 return_attention=True 时返回的权重。",
    "attention.fig_weights": "注意力权重 A · 第 {layer} 层 · 第 {head} 个头",
    "attention.rows_sum": "每一行之和都是 1（最大偏差：{worst}）。",
    "attention.unscaled_title": "如果不缩放",
    "attention.unscaled_explain": "同样的加掩码分数，但不除以 √d_k——所有分数都大了 {sqrt} 倍（√{d_k}）。"
    "softmax 变得更尖锐：大部分权重落到一个词元上，每一行的熵都下降；训练时其他词元的梯度几乎会消失。",
    "attention.fig_unscaled": "不除以 √d_k 的 softmax(QKᵀ) · 第 {head} 个头",
    "attention.fig_entropy": "每一行有多分散：熵（单位 nat，0 表示全部权重集中在一个词元上）",
    "attention.entropy_scaled": "除以 √d_k 时的熵",
    "attention.entropy_unscaled": "不除以 √d_k 时的熵",
    "attention.entropy_axis": "熵（nat）",
    "attention.query_axis": "查询词元",
    "attention.col_query": "查询",
    "attention.col_key": "键",
    "attention.col_weight": "权重",
    "attention.col_weight_unscaled": "不除以 √d_k 时的权重",
    "attention.col_max_weight": "最大权重",
    "attention.col_max_weight_unscaled": "不除以 √d_k 时的最大权重",
    "attention.row_title": "{query} 这一行，一步一步看",
    "attention.step_output": "8 · 权重 × V：这个头的输出",
    "attention.output_explain": "每个词元的输出是它能看到的那些词元的值向量的加权平均，混合比例就是注意力权"
    "重。高亮的那一行就是 {query} 的新向量。",
    "attention.fig_head_output": "第 {head} 个头的输出 = A·V（{rows} × {cols}）",
    "attention.step_multihead": "9 · 多头注意力",
    "attention.multihead_explain": "模型同时运行 {heads} 个头，每个头只处理自己的 d_k = d_model / H = "
    "{d_model} / {heads} = {d_k} 个数，因此不同的头可以关注不同的东西。它们的输出被拼接回每个词元 d_model "
    "= {d_model} 个数，再由另一个可学习的矩阵 W_O 混合。",
    "attention.head_title": "第 {head} 个头",
    "attention.fig_all_heads": "第 {layer} 层所有注意力头的权重",
    "attention.fig_concat": "Concat：{heads} 个头的输出并排拼接（{rows} × {cols}）",
    "attention.fig_wo": "W_O（{size} × {size}）",
    "attention.fig_sublayer_output": "Concat · W_O + b_O：注意力子层的输出（{rows} × {cols}）",
    "attention.check_title": "核对：这些就是模型自己的数字",
    "attention.check_quantity": "对比对象",
    "attention.check_difference": "最大差值",
    "attention.check_ok": "相等？",
    "attention.check_weights": "权重 vs model(…, return_attention=True).attentions[{layer}]",
    "attention.check_output": "输出 vs 模型的注意力子层",
    "attention.check_stream": "子层之后的残差流 vs 模型的前向计算",
    "attention.check_passed": "在浮点舍入误差范围内完全相等：上面一步步的计算正是模型实际做的事。",
    "attention.check_failed": "一步步算出的数字与模型的不一致——请报告这个问题。",
}
