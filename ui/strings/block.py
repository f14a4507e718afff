"""Strings of page 4, inside a Transformer block."""

EN = {
    "block.intro": "A Transformer block has two sub-layers, attention and a feed-forward network, each "
    "with a LayerNorm and a residual connection. The *residual stream* is the list of token vectors that "
    "runs through all blocks: each sub-layer reads it and **adds** a correction instead of replacing it. "
    "Everything below is measured on your text with the active model.",
    "block.text": "Your text",
    "block.text_help": "Any length; the model reads at most {max_tokens} tokens at once, so only the last "
    "{max_tokens} are used.",
    "block.preset_zh": "Chinese example",
    "block.preset_en": "English example",
    "block.layer_help": "Which block the LayerNorm and feed-forward sections show (counting from 0). The "
    "residual stream sections always show all blocks.",
    "block.norm_select": "LayerNorm to inspect",
    "block.norm1_pre": "LN₁ (before attention)",
    "block.norm2_pre": "LN₂ (before the FFN)",
    "block.norm1_post": "LN₁ (after attention + residual)",
    "block.norm2_post": "LN₂ (after the FFN + residual)",
    "block.per_token": "Update sizes per token",
    "block.window_note": "Each of these tokens is computed as the model sees it in this window (positions "
    "start again at 0), just like generation does when a text outgrows the context.",
    "block.unknown": "{count} character(s) were never seen in training; the model reads each as the "
    "unknown token � (marked in red above):",
    "block.stage_embedding": "embedding",
    "block.stage_attention": "layer {layer} · attention",
    "block.stage_ffn": "layer {layer} · FFN",
    "block.step_stream": "1 · The residual stream",
    "block.stream_explain": "The stream is recorded {entries} times: after the embedding and after each of "
    "the 2 × {layers} sub-layers. Each entry holds one vector of d_model = {d_model} numbers per token; "
    "the chart shows its length ‖x‖ (Euclidean norm), which usually grows as the blocks add their updates.",
    "block.fig_stream": "Length of each token's vector ‖x‖ along the stream",
    "block.step_updates": "2 · How much each sub-layer changes the stream",
    "block.updates_explain": "Each sub-layer's update is the difference between two consecutive stream "
    "entries. Its size relative to the stream it was added to says how strongly that sub-layer rewrites "
    "the tokens: small values mean a gentle correction on top of what is already there (averaged over your "
    "tokens below).",
    "block.updates_explain_post": "Each sub-layer's update is the difference between two consecutive "
    "stream entries. In this post-norm model that difference also contains the LayerNorm's rescaling, "
    "since the stream is normalised after every addition (averaged over your tokens below).",
    "block.updates_axis": "ρ = ‖update‖ / ‖stream‖",
    "block.fig_updates": "Relative update of each sub-layer, averaged over the tokens",
    "block.fig_updates_tokens": "Relative update of each sub-layer for each token",
    "block.col_sublayer": "sub-layer",
    "block.col_stream_norm": "‖stream before‖ (mean)",
    "block.col_update_norm": "‖update‖ (mean)",
    "block.col_relative": "‖update‖ / ‖stream‖ (mean)",
    "block.step_norm": "3 · LayerNorm in layer {layer}",
    "block.norm_explain": "LayerNorm works on each token separately: it subtracts the mean μ of the "
    "token's {d_model} numbers and divides by their standard deviation σ (ε = {eps} avoids division by "
    "zero). Before γ and β every token therefore has mean 0 and standard deviation 1, whatever it had "
    "before. Then the learned scale γ and shift β (one per dimension) let the model choose a useful size "
    "again. There is no softmax in it.",
    "block.norm1_input_pre": "Input: the residual stream entering block {layer}.",
    "block.norm2_input_pre": "Input: the residual stream after block {layer}'s attention update.",
    "block.norm1_input_post": "Input: block {layer}'s input plus its attention output (x + Attn(x)).",
    "block.norm2_input_post": "Input: the stream after attention plus the FFN output (x + FFN(x)).",
    "block.col_mean_before": "mean before",
    "block.col_std_before": "std before",
    "block.col_mean_normalized": "mean after (before γ, β)",
    "block.col_std_normalized": "std after (before γ, β)",
    "block.col_mean_after": "mean after γ, β",
    "block.col_std_after": "std after γ, β",
    "block.fig_std": "Standard deviation of each token: before, normalised, after γ and β",
    "block.token_select": "Token to look at in detail",
    "block.line_before": "x (before)",
    "block.line_normalized": "(x − μ) / √(σ² + ε)",
    "block.line_after": "γ ⊙ … + β (output)",
    "block.dim_axis": "dimension",
    "block.fig_vector": "The vector of {token} through the LayerNorm",
    "block.gamma_explain": "γ and β are learned, one number per dimension. They start at 1 and 0; training "
    "moves them wherever the next sub-layer needs it, which is why the mean and standard deviation after γ "
    "and β are no longer exactly 0 and 1.",
    "block.fig_gamma": "Learned scale γ and shift β of this LayerNorm",
    "block.norm_check": "The formula computed step by step (layer_norm_reference) equals the model's "
    "LayerNorm: largest difference {diff}.",
    "block.check_failed": "The step-by-step numbers differ from the model's (largest difference {diff}) — "
    "please report this.",
    "block.step_ffn": "4 · The feed-forward network of layer {layer}",
    "block.no_ffn": "This model is attention-only: block {layer} has no feed-forward network (and no LN₂). "
    "Its attention update goes straight into the residual stream, and the next block reads it.",
    "block.attention_only": "This model is **attention-only**, as in the induction-head papers: every block "
    "is one attention sub-layer and its residual connection, with no feed-forward network and no LN₂. The "
    "stream below has one update per layer, and sections 3 and 4 show only what exists.",
    "block.ffn_explain_gelu": "The FFN works on every token separately: it widens the vector from d_model "
    "= {d_model} to d_ff = {d_ff} hidden units, applies GELU, and projects back. GELU(h) = h·Φ(h) is about "
    "h for positive h and close to 0 (slightly negative) for negative h, so a unit counts as *active* when "
    "h > 0.",
    "block.ffn_explain_relu": "The FFN works on every token separately: it widens the vector from d_model "
    "= {d_model} to d_ff = {d_ff} hidden units, applies ReLU(h) = max(0, h), and projects back. A unit is "
    "*active* when h > 0; every other unit outputs exactly 0.",
    "block.fig_hidden": "Hidden activations {act}(W₁x + b₁): {rows} tokens × {cols} units",
    "block.hidden_note": "{cols} units are too many to print: hover to read a value. Red is positive "
    "(active), blue negative.",
    "block.active_axis": "fraction of active units",
    "block.fig_active": "Fraction of active hidden units per token (mean {mean})",
    "block.col_active": "fraction of active units",
    "block.ffn_check": "FFN computed step by step equals the model's feed-forward module: largest "
    "difference {diff}.",
    "block.step_order": "5 · Pre-norm or post-norm?",
    "block.order_explain": "Where the LayerNorm sits is a design choice. The original paper normalises "
    "*after* adding the sub-layer's output (post-norm); GPT-2 and most models since normalise the "
    "sub-layer's *input* and leave the stream itself alone (pre-norm), which trains more easily in deep "
    "stacks.",
    "block.pre_title": "Pre-norm (GPT-2)",
    "block.post_title": "Post-norm (original paper)",
    "block.pre_explain": "x + Attn(LN₁(x)), then x + FFN(LN₂(x)). The stream is a clean sum of updates; a "
    "final LayerNorm comes before the output layer.",
    "block.post_explain": "LN₁(x + Attn(x)), then LN₂(x + FFN(x)). The stream is re-normalised after every "
    "sub-layer.",
    "block.this_model_pre": "The active model is pre-norm (marked ✓).",
    "block.this_model_post": "The active model is post-norm (marked ✓).",
    "block.dia_norm": "LayerNorm",
    "block.dia_attention": "Attention",
    "block.dia_ffn": "Feed-forward",
    "block.dia_out": "to the next block",
}

ZH = {
    "block.intro": "一个 Transformer 块有两个子层：注意力和前馈网络，每个子层都带一个层归一化（LayerNorm）"
    "和一条残差连接。*残差流*是贯穿所有块的那一串词元向量：每个子层读取它，然后在上面**加上**一个修正量，而"
    "不是替换它。下面的一切都是用当前模型在你的文本上实际测出来的。",
    "block.text": "你的文本",
    "block.text_help": "长度不限；模型一次最多读 {max_tokens} 个词元，所以只使用最后 {max_tokens} 个。",
    "block.preset_zh": "中文示例",
    "block.preset_en": "英文示例",
    "block.layer_help": "层归一化和前馈网络两节展示哪一个块（从 0 开始编号）。残差流两节总是展示所有块。",
    "block.norm_select": "要查看的层归一化",
    "block.norm1_pre": "LN₁（注意力之前）",
    "block.norm2_pre": "LN₂（前馈网络之前）",
    "block.norm1_post": "LN₁（注意力 + 残差之后）",
    "block.norm2_post": "LN₂（前馈网络 + 残差之后）",
    "block.per_token": "按词元显示更新幅度",
    "block.window_note": "这些词元都按模型在这个窗口里看到的样子计算（位置重新从 0 开始），和生成长文本时超"
    "出上下文后的做法一样。",
    "block.unknown": "有 {count} 个字符在训练中从未出现过；模型把它们都读成未知词元 �（上面用红色标出）：",
    "block.stage_embedding": "嵌入",
    "block.stage_attention": "第 {layer} 层 · 注意力",
    "block.stage_ffn": "第 {layer} 层 · 前馈网络",
    "block.step_stream": "1 · 残差流",
    "block.stream_explain": "残差流一共被记录 {entries} 次：嵌入之后一次，然后 2 × {layers} 个子层之后各一"
    "次。每次记录里，每个词元都是一个有 d_model = {d_model} 个数的向量；图中显示的是它的长度 ‖x‖（欧几里得"
    "范数），随着各个块不断加上更新，它通常会变大。",
    "block.fig_stream": "残差流中每个词元向量的长度 ‖x‖",
    "block.step_updates": "2 · 每个子层对残差流改动了多少",
    "block.updates_explain": "每个子层的更新量就是相邻两次残差流记录之差。用它的大小除以它所加上的那个残差"
    "流的大小，就能看出这个子层对词元的改写有多强：数值小，说明只是在原有内容上做了温和的修正（下面对你的所"
    "有词元取平均）。",
    "block.updates_explain_post": "每个子层的更新量就是相邻两次残差流记录之差。在这个后置归一化模型里，残差"
    "流在每次相加之后都会重新归一化，所以这个差值也包含了层归一化带来的缩放（下面对你的所有词元取平均）。",
    "block.updates_axis": "ρ = ‖更新‖ / ‖残差流‖",
    "block.fig_updates": "每个子层的相对更新幅度（对词元取平均）",
    "block.fig_updates_tokens": "每个子层对每个词元的相对更新幅度",
    "block.col_sublayer": "子层",
    "block.col_stream_norm": "‖更新前的残差流‖（平均）",
    "block.col_update_norm": "‖更新‖（平均）",
    "block.col_relative": "‖更新‖ / ‖残差流‖（平均）",
    "block.step_norm": "3 · 第 {layer} 层的层归一化",
    "block.norm_explain": "层归一化对每个词元单独进行：先减去这个词元 {d_model} 个数的均值 μ，再除以它们的"
    "标准差 σ（ε = {eps} 用来避免除以零）。因此在乘 γ、加 β 之前，每个词元的均值都是 0、标准差都是 1，不管"
    "原来是多少。然后，可学习的缩放 γ 和平移 β（每个维度一个）让模型重新选择合适的大小。这里面没有任何 "
    "softmax。",
    "block.norm1_input_pre": "输入：进入第 {layer} 个块的残差流。",
    "block.norm2_input_pre": "输入：第 {layer} 个块加上注意力更新之后的残差流。",
    "block.norm1_input_post": "输入：第 {layer} 个块的输入加上它的注意力输出（x + Attn(x)）。",
    "block.norm2_input_post": "输入：注意力之后的残差流加上前馈网络的输出（x + FFN(x)）。",
    "block.col_mean_before": "之前的均值",
    "block.col_std_before": "之前的标准差",
    "block.col_mean_normalized": "归一化后的均值（乘 γ、加 β 之前）",
    "block.col_std_normalized": "归一化后的标准差（乘 γ、加 β 之前）",
    "block.col_mean_after": "乘 γ、加 β 之后的均值",
    "block.col_std_after": "乘 γ、加 β 之后的标准差",
    "block.fig_std": "每个词元的标准差：之前、归一化后、乘 γ 加 β 之后",
    "block.token_select": "详细查看的词元",
    "block.line_before": "x（之前）",
    "block.line_normalized": "(x − μ) / √(σ² + ε)",
    "block.line_after": "γ ⊙ … + β（输出）",
    "block.dim_axis": "维度",
    "block.fig_vector": "{token} 的向量经过层归一化",
    "block.gamma_explain": "γ 和 β 是可学习的，每个维度各一个数。它们的初始值是 1 和 0；训练会把它们调到下"
    "一个子层需要的位置，所以乘 γ、加 β 之后的均值和标准差就不再恰好是 0 和 1 了。",
    "block.fig_gamma": "这个层归一化学到的缩放 γ 和平移 β",
    "block.norm_check": "按公式一步步算出的结果（layer_norm_reference）与模型的层归一化相等：最大差值 "
    "{diff}。",
    "block.check_failed": "一步步算出的数字与模型的不一致（最大差值 {diff}）——请报告这个问题。",
    "block.step_ffn": "4 · 第 {layer} 层的前馈网络",
    "block.no_ffn": "这个模型只有注意力：第 {layer} 个块没有前馈网络（也没有 LN₂）。注意力的更新直接加进残差流，"
    "由下一个块读取。",
    "block.attention_only": "这个模型是**纯注意力**模型（与归纳头论文中的一样）：每个块只有一个注意力子层和它的"
    "残差连接，没有前馈网络，也没有 LN₂。下面的残差流每层只有一次更新，第 3、4 节只展示实际存在的部分。",
    "block.ffn_explain_gelu": "前馈网络对每个词元单独进行：先把向量从 d_model = {d_model} 维扩展到 d_ff = "
    "{d_ff} 个隐藏单元，经过 GELU，再投影回来。GELU(h) = h·Φ(h)：h 为正时约等于 h，h 为负时接近 0（略小于 0"
    "），所以当 h > 0 时我们说这个单元是*激活*的。",
    "block.ffn_explain_relu": "前馈网络对每个词元单独进行：先把向量从 d_model = {d_model} 维扩展到 d_ff = "
    "{d_ff} 个隐藏单元，经过 ReLU(h) = max(0, h)，再投影回来。h > 0 时单元是*激活*的；其余单元的输出恰好为 "
    "0。",
    "block.fig_hidden": "隐藏层激活值 {act}(W₁x + b₁)：{rows} 个词元 × {cols} 个单元",
    "block.hidden_note": "{cols} 个单元太多，无法印出数字：把鼠标停在格子上即可读数。红色为正（激活），蓝色"
    "为负。",
    "block.active_axis": "激活单元的比例",
    "block.fig_active": "每个词元激活的隐藏单元比例（平均 {mean}）",
    "block.col_active": "激活单元的比例",
    "block.ffn_check": "一步步算出的前馈网络与模型的前馈模块相等：最大差值 {diff}。",
    "block.step_order": "5 · 前置归一化还是后置归一化？",
    "block.order_explain": "层归一化放在哪里是一个设计选择。原论文在加上子层输出*之后*做归一化（后置归一化"
    "，post-norm）；GPT-2 以及之后的大多数模型则对子层的*输入*做归一化，残差流本身保持不动（前置归一化，"
    "pre-norm），这样在很深的网络里更容易训练。",
    "block.pre_title": "前置归一化（GPT-2）",
    "block.post_title": "后置归一化（原论文）",
    "block.pre_explain": "x + Attn(LN₁(x))，然后 x + FFN(LN₂(x))。残差流就是各次更新的干净累加；在输出层之"
    "前还有最后一个层归一化。",
    "block.post_explain": "LN₁(x + Attn(x))，然后 LN₂(x + FFN(x))。每个子层之后残差流都会被重新归一化。",
    "block.this_model_pre": "当前模型采用前置归一化（用 ✓ 标出）。",
    "block.this_model_post": "当前模型采用后置归一化（用 ✓ 标出）。",
    "block.dia_norm": "层归一化",
    "block.dia_attention": "注意力",
    "block.dia_ffn": "前馈网络",
    "block.dia_out": "送往下一个块",
}
