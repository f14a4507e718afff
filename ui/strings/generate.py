"""Strings of page 6 · Generate."""

EN = {
    "generate.intro": "GPT is a **causal** language model: all it ever does is give a probability to every "
    "possible next token, given the tokens so far. To write, we pick one token from that distribution, "
    "append it, and ask again — one token at a time. How we pick changes the text: **greedy** always takes "
    "the most likely token; **sampling** draws at random, reshaped by the temperature τ, top-k and top-p "
    "(nucleus). A fixed random seed makes the draws repeat exactly, so a class demo gives the same text "
    "every time.",
    "generate.prompt_help": "The text the model continues. Anything you type is shown as plain text. The "
    "model reads at most {context} tokens at a time.",
    "generate.preset_zh": "Chinese example",
    "generate.preset_en": "English example",
    "generate.temperature": "Temperature τ",
    "generate.temperature_help": "The scores are divided by τ before the softmax. τ < 1 sharpens the "
    "distribution (safer, more repetitive), τ > 1 flattens it (more surprising, more mistakes). τ = 0 is "
    "greedy.",
    "generate.temperature_zero": "τ = 0: no randomness, the most likely token every time (greedy). Top-k, "
    "top-p and the seed then change nothing.",
    "generate.top_k": "Top-k (0 = off)",
    "generate.top_k_help": "Keep only the k most likely tokens and renormalise; 0 keeps all {vocab}.",
    "generate.top_p": "Top-p, nucleus (1 = off)",
    "generate.top_p_help": "Keep the smallest set of most likely tokens whose probabilities add up to at "
    "least p, and renormalise. Unlike top-k, the number of tokens kept adapts: few when the model is sure, "
    "many when it is not.",
    "generate.max_tokens": "New tokens",
    "generate.max_tokens_help": "How many tokens to write.",
    "generate.seed_help": "The seed of the random draws: the same seed and settings always give the same "
    "text.",
    "generate.new_seed": "New seed",
    "generate.mode": "Mode",
    "generate.mode_stream": "Write",
    "generate.mode_step": "Step by step",
    "generate.off": "off",
    "generate.settings_summary": "τ {temperature} · top-k {top_k} · top-p {top_p} · seed {seed}",
    "generate.long_prompt": "Your prompt has {n} tokens, but the model reads only {context} at a time (its "
    "context window): it starts from the last {context}. While it writes, the window stays full until it "
    "overflows and then jumps forward by {half} tokens, so the model always sees between {half} and "
    "{context} previous tokens. (Jumping instead of sliding by one lets it reuse its cached keys and "
    "values.)",
    "generate.window_note": "Prompt plus new tokens are longer than the context ({context} tokens): when "
    "the window is full it jumps forward by {half} tokens, and the model forgets what came before.",
    "generate.replay": "Write again, slowly",
    "generate.replay_help": "Types the same text out again token by token (same seed, same text) so the "
    "class can watch it appear.",
    "generate.colors_caption": "Each new token is coloured by the probability the model itself gave it (τ = "
    "1, nothing cut off): green = the model was sure, red = an unlikely token, which sampling sometimes "
    "picks. Hover over a token to see this number and its probability in the reshaped distribution it was "
    "drawn from. The prompt is blue, unknown characters red.",
    "generate.greedy_title": "Greedy",
    "generate.greedy_subtitle": "always the most likely token",
    "generate.sampled_title": "Sampled",
    "generate.metric_tokens": "tokens",
    "generate.metric_repeats": "repeats",
    "generate.metric_repeats_help": "Share of the text's 4-token windows that already appeared earlier in "
    "it: a high value means the text goes round in a loop.",
    "generate.metric_mean_p": "mean p",
    "generate.metric_mean_p_help": "The average probability the model itself (τ = 1, nothing cut off) gave "
    "to each chosen token.",
    "generate.plain_text": "Plain text and token table",
    "generate.col_step": "step",
    "generate.col_p": "probability (sampled from)",
    "generate.col_model_p": "model probability (τ = 1)",
    "generate.compare_title": "Greedy or sampled?",
    "generate.compare_explain": "Greedy decoding has no randomness: the same prompt always gives the same "
    "text, and a small model easily falls into a loop, repeating a phrase it finds very likely. Sampling "
    "takes less likely tokens now and then, which gives more varied text, and more mistakes when the "
    "temperature is high. Change the seed to get another text; keep it to repeat this one exactly.",
    "generate.compare_same": "Both texts are identical here: with these settings sampling always picked the "
    "most likely token.",
    "generate.chip_prompt": "prompt · position {position}",
    "generate.chip_outside": "position {position} · outside the model's window: it no longer sees this token",
    "generate.chip_unknown": "position {position} · never seen in training: the model reads the unknown "
    "token �",
    "generate.chip_title": "new token {step} · probability {p} (model, τ = 1: {model_p}) · id {id}",
    "generate.step_title": "Step {step} of {total}: choosing the next token",
    "generate.back": "Back",
    "generate.next": "Next step",
    "generate.reset": "Reset",
    "generate.step_window": "The model sees the last {seen} tokens (its window holds at most {context}).",
    "generate.step_replay_note": "Changing a setting replays the text from the start with the same seed, so "
    "the earlier tokens may change too; step k here is always token k of the “Write” mode.",
    "generate.fig_stages": "Next-token distribution at step {step}: the 20 most likely tokens",
    "generate.axis_candidates": "candidate (rank by the model's score)",
    "generate.stage_model": "model: softmax(z)",
    "generate.stage_temperature": "÷ temperature τ = {temperature}",
    "generate.stage_top_k": "top-k = {k}",
    "generate.stage_top_p": "top-p = {p} (sampled from)",
    "generate.chosen_marker": "★ chosen",
    "generate.metric_chosen": "chosen token",
    "generate.metric_chosen_p": "its probability",
    "generate.metric_chosen_model_p": "model probability (τ = 1)",
    "generate.metric_kept": "tokens left to draw from",
    "generate.stages_explain": "Read the bars from left to right within each token: the model's own "
    "probabilities (grey), then divided by the temperature (blue), then top-k keeps {kept_k} tokens "
    "(orange), then top-p keeps {kept_p} (green): the green bars are the distribution the token is drawn "
    "from, renormalised so they add up to 1. Every token outside the nucleus gets 0. The full table of all "
    "{vocab} tokens is below.",
    "generate.table_title": "All {vocab} tokens at this step",
    "generate.col_rank": "rank",
    "generate.col_chosen": "chosen",
    "generate.step_outside": "Tokens before position {start} are pale: they are outside the window and the "
    "model no longer sees them.",
}

ZH = {
    "generate.intro": "GPT 是一个**因果**语言模型：它做的事只有一件——根据已有的词元，给每一个可能的下一个词"
    "元打出概率。要写作时，我们从这个分布里选出一个词元，接在后面，再问一次——一次一个词元。怎么选会改变写出"
    "的文字：**贪心**每次都取最可能的词元；**采样**则按概率随机抽取，并可用温度 τ、top-k 和 top-p（核采样）"
    "重塑分布。固定随机种子后，每次抽取都完全一样，课堂演示每次都能得到同样的文本。",
    "generate.prompt_help": "模型要接着写的文本。你输入的任何内容都按纯文本显示。模型一次最多读 {context} 个"
    "词元。",
    "generate.preset_zh": "中文示例",
    "generate.preset_en": "英文示例",
    "generate.temperature": "温度 τ",
    "generate.temperature_help": "在 softmax 之前把分数除以 τ。τ < 1 让分布更尖锐（更稳妥，也更容易重复），"
    "τ > 1 让分布更平坦（更出人意料，也更容易出错）。τ = 0 就是贪心。",
    "generate.temperature_zero": "τ = 0：没有随机性，每次都取最可能的词元（贪心）。此时 top-k、top-p 和种子"
    "都不起作用。",
    "generate.top_k": "Top-k（0 = 关闭）",
    "generate.top_k_help": "只保留最可能的 k 个词元并重新归一化；0 表示全部 {vocab} 个都保留。",
    "generate.top_p": "Top-p 核采样（1 = 关闭）",
    "generate.top_p_help": "保留概率最高、且概率之和至少为 p 的最小词元集合，并重新归一化。与 top-k 不同，保"
    "留的词元数会自动调整：模型很确定时只留几个，不确定时留很多。",
    "generate.max_tokens": "新词元数",
    "generate.max_tokens_help": "要写多少个词元。",
    "generate.seed_help": "随机抽取的种子：种子和设置相同，写出的文本就一定相同。",
    "generate.new_seed": "换个种子",
    "generate.mode": "模式",
    "generate.mode_stream": "直接写",
    "generate.mode_step": "一步一步",
    "generate.off": "关闭",
    "generate.settings_summary": "τ {temperature} · top-k {top_k} · top-p {top_p} · 种子 {seed}",
    "generate.long_prompt": "你的提示有 {n} 个词元，但模型一次只能读 {context} 个（上下文窗口）：它从最后 "
    "{context} 个开始。写作过程中，窗口一直保持满的，直到溢出时整体向前跳 {half} 个词元，所以模型总能看到前"
    "面 {half} 到 {context} 个词元。（跳跃而不是每次滑动一个，是为了能重复使用缓存的键和值。）",
    "generate.window_note": "提示加上新词元超过了上下文长度（{context} 个词元）：窗口满了以后会向前跳 "
    "{half} 个词元，更早的内容模型就忘掉了。",
    "generate.replay": "慢速再写一遍",
    "generate.replay_help": "把同一段文本逐个词元重新“打”出来（同样的种子，同样的文本），方便全班观看。",
    "generate.colors_caption": "每个新词元的颜色表示模型本身给它的概率（τ = 1，不做截断）：绿色 = 模型很确定"
    "，红色 = 不太可能的词元（采样有时会选到它）。把鼠标移到词元上，可以看到这个数值，以及它在实际抽取所用的"
    "（重塑后的）分布中的概率。提示是蓝色，未知字符是红色。",
    "generate.greedy_title": "贪心",
    "generate.greedy_subtitle": "每次都取最可能的词元",
    "generate.sampled_title": "采样",
    "generate.metric_tokens": "词元数",
    "generate.metric_repeats": "重复片段",
    "generate.metric_repeats_help": "文本中有多少比例的 4 词元窗口在前面已经出现过：数值高说明文本在兜圈子。",
    "generate.metric_mean_p": "平均概率",
    "generate.metric_mean_p_help": "模型本身（τ = 1，不做截断）给每个被选中词元的概率的平均值。",
    "generate.plain_text": "纯文本与词元表",
    "generate.col_step": "步",
    "generate.col_p": "概率（实际抽取的分布）",
    "generate.col_model_p": "模型概率（τ = 1）",
    "generate.compare_title": "贪心还是采样？",
    "generate.compare_explain": "贪心解码没有随机性：同样的提示永远得到同样的文本，小模型还很容易陷入循环，"
    "反复写它认为最可能的那句话。采样时不时会选一个不那么可能的词元，文本因此更多样；温度高时错误也更多。换"
    "一个种子就得到另一段文本；保持种子不变，就能把这一段原样重现。",
    "generate.compare_same": "这里两段文本完全一样：在这些设置下，采样每次都恰好选中了最可能的词元。",
    "generate.chip_prompt": "提示 · 位置 {position}",
    "generate.chip_outside": "位置 {position} · 在模型的窗口之外：模型已经看不到这个词元了",
    "generate.chip_unknown": "位置 {position} · 训练中从未出现：模型读到的是“未知”词元 �",
    "generate.chip_title": "第 {step} 个新词元 · 概率 {p}（模型本身，τ = 1：{model_p}）· id {id}",
    "generate.step_title": "第 {step} 步（共 {total} 步）：选择下一个词元",
    "generate.back": "上一步",
    "generate.next": "下一步",
    "generate.reset": "重来",
    "generate.step_window": "模型能看到最后 {seen} 个词元（窗口最多 {context} 个）。",
    "generate.step_replay_note": "修改任何设置都会用同一个种子从头重放，所以前面的词元也可能改变；这里的第 "
    "k 步永远就是“直接写”模式中的第 k 个词元。",
    "generate.fig_stages": "第 {step} 步的下一个词元分布：最可能的 20 个词元",
    "generate.axis_candidates": "候选词元（按模型分数排名）",
    "generate.stage_model": "模型：softmax(z)",
    "generate.stage_temperature": "÷ 温度 τ = {temperature}",
    "generate.stage_top_k": "top-k = {k}",
    "generate.stage_top_p": "top-p = {p}（从这里抽取）",
    "generate.chosen_marker": "★ 选中",
    "generate.metric_chosen": "选中的词元",
    "generate.metric_chosen_p": "它的概率",
    "generate.metric_chosen_model_p": "模型概率（τ = 1）",
    "generate.metric_kept": "可供抽取的词元",
    "generate.stages_explain": "每个词元的几根柱子从左往右看：模型本身的概率（灰色），除以温度之后（蓝色），"
    "top-k 保留 {kept_k} 个词元之后（橙色），top-p 保留 {kept_p} 个之后（绿色）：绿色柱子就是实际抽取所用的"
    "分布，重新归一化后加起来等于 1。核之外的词元概率都是 0。下面的表格列出了全部 {vocab} 个词元。",
    "generate.table_title": "这一步的全部 {vocab} 个词元",
    "generate.col_rank": "排名",
    "generate.col_chosen": "选中",
    "generate.step_outside": "位置 {start} 之前的词元颜色变淡：它们在窗口之外，模型已经看不到了。",
}
