"""Strings of page 5 · Attention explorer."""

EN = {
    "explorer.go_learned": "Which heads copy? Induction heads, the logit lens and head ablation: page 10 · What did it learn?",
    "explorer.intro": "Every layer of the model has several attention **heads**, and each head decides for "
    "every token how much to look at each earlier token. Here you see all of them at once, computed by the "
    "active model on **your** text (its real forward pass, nothing made up): first the whole grid, then one "
    "head up close, what a single token attends to, and how focused or spread out each head is.",
    "explorer.text": "Your text",
    "explorer.text_help": "Anything you type is shown as plain text. The model reads at most {context} "
    "tokens at a time; for a longer text the last {context} are used.",
    "explorer.preset_zh": "Chinese example",
    "explorer.preset_en": "English example",
    "explorer.layer_name": "layer {layer}",
    "explorer.head_name": "head {head}",
    "explorer.all_heads_toggle": "Line view: all heads of the layer",
    "explorer.all_heads_help": "Draw the lines of every head in this layer, one colour per head (like "
    "BertViz), instead of only the selected head.",
    "explorer.chip_title": "position {position} · id {id}",
    "explorer.chip_unknown": "position {position} · never seen in training: the model reads the unknown "
    "token (id {id}, shown as �)",
    "explorer.cropped": "Your text has {n} tokens, but the model reads at most {context} at a time (its "
    "context window). Only the **last {context} tokens** are shown: exactly the window the model would use "
    "to predict the next token. Earlier tokens are outside the window and cannot be attended to.",
    "explorer.grid_title": "All heads at a glance",
    "explorer.grid_explain": "{layers} layers × {heads} heads, each a {n} × {n} map. In every small map the "
    "rows are the **queries** (the token doing the looking), the columns the **keys** (the tokens looked "
    "at); darker means more attention. The upper-right triangle is empty because of the causal mask: a "
    "token never sees the future. The selected head is framed in orange; hover to read a value.",
    "explorer.grid_cell": "L{layer} · H{head}",
    "explorer.fig_grid": "Attention weights of every layer (rows) and head (columns)",
    "explorer.head_title": "Layer {layer}, head {head} up close",
    "explorer.fig_head": "Attention weights · layer {layer} · head {head}",
    "explorer.axis_query": "query (the token looking)",
    "explorer.axis_key": "key (the token looked at)",
    "explorer.axis_weight": "attention weight",
    "explorer.axis_entropy": "entropy H (nats)",
    "explorer.query_select": "Query token (framed row, lines, bars below)",
    "explorer.query_help": "The token whose attention is shown in the line view and the bar chart. By "
    "default the last token: the one whose output predicts the next token.",
    "explorer.head_caption": "Every row is a probability distribution over the keys the query may see: it "
    "sums to 1 (largest deviation here: {worst}).",
    "explorer.fig_lines": "Line view: {query} · layer {layer}",
    "explorer.lines_caption": "Left: the tokens as queries; right: the same tokens as keys. Each line goes "
    "from the selected query to a key it may see, and its opacity is the attention weight: a dark line "
    "carries a lot of attention, a faint one little. Grey keys on the right are in the future and get no "
    "line.",
    "explorer.token_title": "What does {query} attend to?",
    "explorer.token_explain": "Each head of layer {layer} spreads the attention of {query} over itself and "
    "the tokens before it; each colour's bars add up to 1. Different heads often look at different things. "
    "The legend shows each head's entropy H for this token (0 = all on one token).",
    "explorer.fig_bars": "Attention of {query} in every head of layer {layer}",
    "explorer.bar_head": "head {head} (H = {entropy})",
    "explorer.col_key": "key token",
    "explorer.row_entropy": "entropy H (nats)",
    "explorer.entropy_title": "How focused is each head? Attention entropy",
    "explorer.entropy_explain": "The entropy of a row measures how spread out the attention is. **Low "
    "entropy** (close to 0): the head concentrates on one or two tokens, e.g. it always looks at the "
    "previous token or at a matching word. **High entropy** (close to ln(i+1), the maximum for a token that "
    "sees i+1 keys): the head spreads its attention evenly and works like an average of the context. "
    "Because a later token sees more keys, the normalised entropy H / ln(i+1) (between 0 and 1) compares "
    "positions fairly.",
    "explorer.fig_entropy": "Mean entropy per head (nats)",
    "explorer.fig_normalized": "Mean normalised entropy H / ln(i+1) per head",
    "explorer.entropy_caption": "Averaged over query positions 1 … {n_minus_one}: position 0 can only look "
    "at itself, so its entropy is always 0 and says nothing about the head.",
    "explorer.fig_row_entropy": "Entropy of every query row · layer {layer} · head {head}",
    "explorer.entropy_row": "entropy H of the row",
    "explorer.entropy_max": "maximum ln(i+1)",
    "explorer.patterns_title": "What does each head tend to do?",
    "explorer.patterns_explain": "Simple averages over the query rows 1 … T−1 of each head: the weight on "
    "the **previous** token, on the token **itself** and on the **first** token (some heads park unused "
    "attention there). On a different text these numbers change; a head that does the same thing on many "
    "texts has learned a pattern.",
    "explorer.col_entropy": "mean entropy (nats)",
    "explorer.col_normalized": "normalised entropy",
    "explorer.col_previous": "weight on previous token",
    "explorer.col_self": "weight on itself",
    "explorer.col_first": "weight on first token",
    "explorer.patterns_highlight": "On this text, the most “previous-token” head is layer {prev_layer}, "
    "head {prev_head} (average weight {prev_weight} on the token just before), and the most focused head is "
    "layer {focus_layer}, head {focus_head} (normalised entropy {focus_value}).",
}

ZH = {
    "explorer.go_learned": "哪些头在复制？归纳头、逻辑透镜和头消融：第 10 页 · 它学到了什么？",
    "explorer.intro": "模型的每一层都有好几个注意力**头**，每个头为每个词元决定：要看多少前面的各个词元。这"
    "里一次展示所有的头，它们都由当前模型在**你的**文本上真实算出（真实的前向计算，没有编造的数字）：先看整"
    "体网格，再放大一个头，看单个词元在关注什么，最后看每个头的注意力是集中还是分散。",
    "explorer.text": "输入文本",
    "explorer.text_help": "你输入的任何内容都按纯文本显示。模型一次最多读 {context} 个词元；文本更长时只使用"
    "最后 {context} 个。",
    "explorer.preset_zh": "中文示例",
    "explorer.preset_en": "英文示例",
    "explorer.layer_name": "第 {layer} 层",
    "explorer.head_name": "头 {head}",
    "explorer.all_heads_toggle": "连线图：显示本层所有头",
    "explorer.all_heads_help": "画出本层每个头的连线，每个头一种颜色（类似 BertViz），而不只是所选的那个头。",
    "explorer.chip_title": "位置 {position} · id {id}",
    "explorer.chip_unknown": "位置 {position} · 训练中从未出现：模型读到的是“未知”词元（id {id}，显示为 �）",
    "explorer.cropped": "你的文本有 {n} 个词元，但模型一次最多只能读 {context} 个（上下文窗口）。这里只显示"
    "**最后 {context} 个词元**：正是模型预测下一个词元时所用的窗口。更早的词元在窗口之外，无法被关注到。",
    "explorer.grid_title": "所有注意力头一览",
    "explorer.grid_explain": "{layers} 层 × {heads} 个头，每个都是一张 {n} × {n} 的图。每张小图中，行是**查"
    "询**（正在“看”的词元），列是**键**（被看的词元）；颜色越深，注意力越多。右上三角是空的，这是因果掩码的"
    "作用：词元永远看不到未来。所选的头用橙色框出；把鼠标移到格子上可读数值。",
    "explorer.grid_cell": "L{layer} · H{head}",
    "explorer.fig_grid": "每一层（行）每个头（列）的注意力权重",
    "explorer.head_title": "放大看：第 {layer} 层，头 {head}",
    "explorer.fig_head": "注意力权重 · 第 {layer} 层 · 头 {head}",
    "explorer.axis_query": "查询（正在看的词元）",
    "explorer.axis_key": "键（被看的词元）",
    "explorer.axis_weight": "注意力权重",
    "explorer.axis_entropy": "熵 H（奈特）",
    "explorer.query_select": "查询词元（下方的框选行、连线和柱状图）",
    "explorer.query_help": "在连线图和柱状图中展示这个词元的注意力。默认是最后一个词元：它的输出用来预测下一"
    "个词元。",
    "explorer.head_caption": "每一行都是查询在它能看到的键上的概率分布，加起来等于 1（这里的最大偏差："
    "{worst}）。",
    "explorer.fig_lines": "连线图：{query} · 第 {layer} 层",
    "explorer.lines_caption": "左边是作为查询的词元，右边是作为键的同一批词元。每条线从所选的查询连到它能看"
    "到的一个键，线的不透明度就是注意力权重：线越深，分到的注意力越多。右侧灰色的键在未来，没有连线。",
    "explorer.token_title": "{query} 在关注什么？",
    "explorer.token_explain": "第 {layer} 层的每个头都把 {query} 的注意力分配给它自己和它前面的词元；同一种"
    "颜色的柱子加起来等于 1。不同的头往往关注不同的东西。图例里给出每个头在这个词元上的熵 H（0 表示全部集中"
    "在一个词元上）。",
    "explorer.fig_bars": "{query} 在第 {layer} 层各个头中的注意力",
    "explorer.bar_head": "头 {head}（H = {entropy}）",
    "explorer.col_key": "键词元",
    "explorer.row_entropy": "熵 H（奈特）",
    "explorer.entropy_title": "每个头有多“专注”？注意力熵",
    "explorer.entropy_explain": "一行的熵衡量注意力有多分散。**熵低**（接近 0）：这个头集中看一两个词元，比"
    "如总是看前一个词元，或看某个相关的词。**熵高**（接近 ln(i+1)，即能看到 i+1 个键的词元所能达到的最大值）"
    "：这个头把注意力平均铺开，相当于对上下文取平均。由于越靠后的词元能看到的键越多，归一化熵 H / ln(i+1)（"
    "介于 0 和 1 之间）能更公平地比较不同位置。",
    "explorer.fig_entropy": "每个头的平均熵（奈特）",
    "explorer.fig_normalized": "每个头的平均归一化熵 H / ln(i+1)",
    "explorer.entropy_caption": "对查询位置 1 … {n_minus_one} 取平均：位置 0 只能看它自己，熵永远是 0，对判"
    "断这个头没有帮助。",
    "explorer.fig_row_entropy": "每个查询行的熵 · 第 {layer} 层 · 头 {head}",
    "explorer.entropy_row": "该行的熵 H",
    "explorer.entropy_max": "最大值 ln(i+1)",
    "explorer.patterns_title": "每个头倾向于做什么？",
    "explorer.patterns_explain": "对每个头的查询行 1 … T−1 取简单平均：分给**前一个**词元、分给**自己**、分"
    "给**第一个**词元的权重（有些头会把用不上的注意力“停放”在第一个词元上）。换一段文本，这些数字会变；如果"
    "一个头在很多文本上都做同样的事，说明它学到了一种模式。",
    "explorer.col_entropy": "平均熵（奈特）",
    "explorer.col_normalized": "归一化熵",
    "explorer.col_previous": "前一个词元的权重",
    "explorer.col_self": "自身的权重",
    "explorer.col_first": "第一个词元的权重",
    "explorer.patterns_highlight": "在这段文本上，最像“看前一个词元”的头是第 {prev_layer} 层的头 "
    "{prev_head}（平均有 {prev_weight} 的权重分给紧挨着的前一个词元）；最专注的头是第 {focus_layer} 层的头 "
    "{focus_head}（归一化熵 {focus_value}）。",
}
