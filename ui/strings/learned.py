"""Page 10 · What did it learn? (induction heads, the loss bump, the logit lens, head ablation)."""

EN = {
    "learned.intro": "A language model of two or more attention layers suddenly learns to **copy from its "
    "context**: having seen *… a b …*, at the next *a* it predicts *b*. Olsson et al. (2022, *In-context "
    "Learning and Induction Heads*) found the circuit that does it, made of two heads in different layers. "
    'A **previous-token head** in one layer looks one position back and writes *"the token before me was '
    "a\"* into each position's residual stream. An **induction head** in a later layer, at the second *a*, "
    "looks for a position whose previous token was *a* — the one right after the first *a* — and copies "
    "its token *b* into the prediction. One layer cannot do it: its keys only know their own token and "
    "position. The circuit appears as a **phase change**: within a few hundred steps the induction score "
    "jumps, the loss curve shows a bump (a sudden fall after a plateau) and the in-context-learning score "
    "turns negative (late tokens of a window get much easier than early ones).",
    "learned.formula_caption": "A: a head's attention weights on a repeated random sequence "
    "[x₁ … xₙ, x₁ … xₙ]. P (previous-token score): the mean weight on the token just before. I (induction "
    "score): from each token of the second copy, the weight on the token that followed its first "
    "occurrence. ICL: the mean loss on the last eighth of a window minus the mean loss on its first eighth, "
    "on held-out text (negative: more context helps).",
    "learned.step_demo": "1 · Train the induction demo",
    "learned.demo_explain": "Two runs on the built-in **repetition-rich corpus** (random letter runs written "
    "twice, and letter alternations): an attention-only model with **2 layers** and the same model with "
    "**1 layer** ({heads} heads, d_model = {d_model}, context {context}, {steps} steps of {batch} windows). "
    "Measured on this project's 2-core machine: the 2-layer model's best induction score passes 0.4 at "
    "about step 450, the 1-layer model's never does.",
    "learned.demo_start": "Train the induction demo (2 layers, then 1 layer)",
    "learned.demo_2l": "2 layers",
    "learned.demo_1l": "1 layer",
    "learned.demo_waiting": "starts when the 2-layer run has ended",
    "learned.demo_line": "{status} · step {step} · best induction score {best}",
    "learned.demo_eta": "about {eta} left",
    "learned.demo_one_at_a_time": "Each student trains one run at a time, so the 1-layer run is queued by "
    "this page and starts by itself as soon as the 2-layer run ends while this page is open (or when you come "
    "back to it). Both runs' curves are drawn on the same chart below.",
    "learned.demo_activated": "The 2-layer model is now the one every page uses: sections 3-5 below show "
    "its heads, its logit lens and its ablations.",
    "learned.step_training": "2 · Over training: the phase change",
    "learned.training_explain": "Every run trained in this app records, at each evaluation, every head's "
    "induction and previous-token scores and the ICL score (a few extra forward passes), and the attention "
    "on a repeated random sequence. Watch them during training or afterwards.",
    "learned.record": "Run",
    "learned.record_model": "The active model's own record",
    "learned.no_scores": "This record has no head scores: they are recorded by runs trained in this app (the "
    "demo models were trained before). Train the induction demo above, or pick a run.",
    "learned.step": "step",
    "learned.threshold": "induction head: {value}",
    "learned.induction_axis": "induction score",
    "learned.prev_axis": "previous-token score",
    "learned.best_axis": "best head's induction score",
    "learned.fig_induction": "Induction score of every head",
    "learned.fig_prev": "Previous-token score of every head",
    "learned.fig_compare": "The demo side by side: 2 layers against 1 layer",
    "learned.best_now": "Best induction score (latest)",
    "learned.crossed_at": "Passed 0.4 at step",
    "learned.not_yet": "not (yet)",
    "learned.bump_at": "Loss bump at step",
    "learned.no_bump": "none",
    "learned.col_head": "head",
    "learned.train_loss": "training loss",
    "learned.val_loss": "validation loss",
    "learned.loss_axis": "loss (nats per token)",
    "learned.fig_loss": "Loss, with the bump marked",
    "learned.bump_label": "bump ≈ step {step}",
    "learned.bump_caption": "The shaded stretch is where the loss falls fastest, at least three times faster "
    "than just before (tinylm.explain.induction.loss_bump): the phase change. Compare its step with the "
    "one where the induction score passes 0.4.",
    "learned.no_bump_caption": "No bump: the loss never suddenly falls after a plateau (a 1-layer model, a "
    "run that has not got there yet, or a corpus where copying does not pay).",
    "learned.icl": "ICL score",
    "learned.icl_axis": "late loss − early loss",
    "learned.fig_icl": "In-context-learning score",
    "learned.icl_caption": "ICL score at the first evaluation {before}, at the latest {after}. Below 0: the "
    "model predicts late tokens of a window better than early ones, it uses its context.",
    "learned.replay_title": "Replay: the induction stripe appearing",
    "learned.replay": "Snapshot (evaluation)",
    "learned.replay_help": "One snapshot per evaluation (at most 40, spread over the run).",
    "learned.replay_head": "Head",
    "learned.replay_step": "Step",
    "learned.induction_now": "Induction score here",
    "learned.prev_now": "Previous-token score here",
    "learned.fig_stripe": "{head}: attention on the repeated sequence at step {step}",
    "learned.stripe_caption": "Rows: the query token; columns: the keys. The dotted line is where an "
    "induction head looks: from a token of the second copy to the token that followed it in the first "
    "(n = {n} positions back, plus one). A previous-token head lights up the diagonal just below the main "
    "one instead.",
    "learned.no_replay": "No snapshots on the repeated sequence in this record (they are kept by runs "
    "trained in this app, while their record is on the server).",
    "learned.head": "L{layer} H{head}",
    "learned.step_heads": "3 · The active model's heads now",
    "learned.heads_explain": "The same scores for the model every page uses, measured now on a fresh "
    "repeated random sequence — so this works for the demo models and any uploaded model too. The copying "
    "score asks whether a head, through its values and output, raises the logit of the token it attends to "
    "(1: it copies, −1: it suppresses).",
    "learned.context_too_short": "The context is too short for a repeated sequence (4 tokens at least).",
    "learned.layer_row": "layer {layer}",
    "learned.head_col": "head {head}",
    "learned.fig_now_induction": "Induction score",
    "learned.fig_now_prev": "Previous-token score",
    "learned.fig_now_copying": "Copying score",
    "learned.copying": "copying score",
    "learned.heads_caption": "An induction head: high induction score (and usually a high copying score) in "
    "a layer after one with a previous-token head.",
    "learned.step_lens": "4 · Logit lens: what each layer would predict",
    "learned.lens_explain": "Stop the model after any sub-layer, send that residual stream through the final "
    "LayerNorm and the unembedding, and read the prediction it would make. On a repeated text the right "
    "next token often appears only after the induction head's layer.",
    "learned.lens_text": "Your prompt",
    "learned.lens_text_help": "Repeat a phrase to see copying; the first {context} tokens are used.",
    "learned.lens_position": "Predict after the token",
    "learned.lens_next": "The token that really comes next: {token}",
    "learned.lens_last": "The last token: what comes next is not in the text.",
    "learned.col_stage": "after",
    "learned.col_rank": "top {k} (p)",
    "learned.col_next_p": "p(real next)",
    "learned.col_next_rank": "its rank",
    "learned.fig_lens": "Probability of the real next token, after each sub-layer (rows) at each position",
    "learned.lens_check": "At the last stage the lens equals the model's own logits: largest difference "
    "{diff}.",
    "learned.step_ablation": "5 · Ablate a head: which heads matter?",
    "learned.ablation_explain": "Click a head to switch it off (its output replaced by zero, or by its mean) "
    "and measure the loss again: on the repeated sequence's second copy, where only copying helps, and on "
    "ordinary text. The bar chart does it for every head.",
    "learned.mode": "Ablation",
    "learned.mode_zero": "zero",
    "learned.mode_mean": "mean",
    "learned.ablate_head": "Head to switch off",
    "learned.copy_loss": "Loss on the repeated copy (with the head off)",
    "learned.copy_loss_help": "Intact model: {before}. The second copy of a repeated random sequence is "
    "predictable only by copying.",
    "learned.text_loss": "Loss on text (with the head off)",
    "learned.text_loss_help": "Intact model: {before}.",
    "learned.ablation_text_corpus": "Text: held-out text of the model's built-in corpus (another seed than "
    "its training text).",
    "learned.ablation_text_prompt": "Text: your prompt (the model was not trained on a built-in corpus).",
    "learned.bar_probe": "Δ loss, repeated copy",
    "learned.bar_text": "Δ loss, text",
    "learned.bar_axis": "loss change (nats)",
    "learned.fig_ablation": "Which heads matter: loss change when each head is switched off",
    "learned.go_train": "Train a model (page 7)",
    "learned.go_explorer": "See every head's attention (page 5)",
}

ZH = {
    "learned.intro": "两层及以上注意力层的语言模型会在训练中突然学会**从上下文中复制**：见过 *… a b …* 之后，"
    "再遇到 *a* 时就预测 *b*。Olsson 等人（2022，《In-context Learning and Induction Heads》）找到了完成这件事"
    "的电路，它由不同层的两个头组成：某一层的**前一词元头**（previous-token head）看向前一个位置，把“我前面的"
    "词元是 a”写进每个位置的残差流；后面一层的**归纳头**（induction head）在第二个 *a* 处寻找“前一个词元是 a”"
    "的位置——也就是第一个 *a* 之后的那个位置——并把那里的词元 *b* 复制到预测中。一层模型做不到：它的键只"
    "知道自己的词元和位置。这个电路以**相变**的方式出现：几百步之内归纳分数突然跃升，损失曲线出现一个“鼓包”"
    "（平台之后的一次突然下降），上下文学习分数变为负数（窗口里靠后的词元比靠前的容易预测得多）。",
    "learned.formula_caption": "A：一个头在重复随机序列 [x₁ … xₙ, x₁ … xₙ] 上的注意力权重。P（前一词元分数）："
    "对前一个词元的平均权重。I（归纳分数）：从第二份中的每个词元出发，对它第一次出现时后面那个词元的权重。"
    "ICL：在留出文本上，窗口最后八分之一的平均损失减去最前八分之一的平均损失（为负：上下文越多越有帮助）。",
    "learned.step_demo": "1 · 训练归纳头演示",
    "learned.demo_explain": "在内置的**重复丰富语料**（随机字母串写两遍，以及两个字母交替）上训练两次：一个"
    "**两层**的纯注意力模型，和同样设置的**一层**模型（{heads} 个头，d_model = {d_model}，上下文 {context}，"
    "{steps} 步，每步 {batch} 个窗口）。在本项目的双核机器上实测：两层模型最好的归纳分数大约在第 450 步超过 "
    "0.4，一层模型始终达不到。",
    "learned.demo_start": "训练归纳头演示（先两层，再一层）",
    "learned.demo_2l": "两层",
    "learned.demo_1l": "一层",
    "learned.demo_waiting": "两层模型训练结束后开始",
    "learned.demo_line": "{status} · 第 {step} 步 · 最高归纳分数 {best}",
    "learned.demo_eta": "还需约 {eta}",
    "learned.demo_one_at_a_time": "每位同学同一时间只能训练一个模型，所以一层模型由本页排队，在两层模型结束后"
    "自动开始（需要本页开着；如果离开了，回到本页时就会开始）。两次训练的曲线画在下面同一张图上。",
    "learned.demo_activated": "两层模型现在是所有页面使用的模型：下面第 3-5 节展示的就是它的各个头、逻辑透镜和"
    "消融结果。",
    "learned.step_training": "2 · 训练过程中：相变",
    "learned.training_explain": "在本应用里训练的每个模型，在每次评估时都会记录每个头的归纳分数、前一词元分数和"
    " ICL 分数（多几次前向计算），以及它在一个重复随机序列上的注意力。可以边训练边看，也可以训练完再看。",
    "learned.record": "训练记录",
    "learned.record_model": "当前模型自带的记录",
    "learned.no_scores": "这份记录里没有头的分数：只有在本应用里训练的模型才会记录（演示模型是更早训练的）。"
    "请在上面训练归纳头演示，或选择一次训练。",
    "learned.step": "步数",
    "learned.threshold": "归纳头：{value}",
    "learned.induction_axis": "归纳分数",
    "learned.prev_axis": "前一词元分数",
    "learned.best_axis": "最好的头的归纳分数",
    "learned.fig_induction": "每个头的归纳分数",
    "learned.fig_prev": "每个头的前一词元分数",
    "learned.fig_compare": "演示对比：两层与一层",
    "learned.best_now": "最高归纳分数（最新）",
    "learned.crossed_at": "超过 0.4 的步数",
    "learned.not_yet": "（尚）未超过",
    "learned.bump_at": "损失鼓包所在步数",
    "learned.no_bump": "没有",
    "learned.col_head": "头",
    "learned.train_loss": "训练损失",
    "learned.val_loss": "验证损失",
    "learned.loss_axis": "损失（每词元 nats）",
    "learned.fig_loss": "损失曲线，标出鼓包",
    "learned.bump_label": "鼓包 ≈ 第 {step} 步",
    "learned.bump_caption": "阴影部分是损失下降最快的一段，比紧挨着的前一段至少快三倍"
    "（tinylm.explain.induction.loss_bump）：这就是相变。把它所在的步数与归纳分数超过 0.4 的步数比较一下。",
    "learned.no_bump_caption": "没有鼓包：损失从未在平台之后突然下降（一层模型、还没训练到那一步，或者语料里"
    "复制没有用处）。",
    "learned.icl": "ICL 分数",
    "learned.icl_axis": "靠后损失 − 靠前损失",
    "learned.fig_icl": "上下文学习（ICL）分数",
    "learned.icl_caption": "第一次评估时 ICL 分数为 {before}，最近一次为 {after}。小于 0：模型预测窗口里靠后的"
    "词元比靠前的更准，说明它在利用上下文。",
    "learned.replay_title": "回放：归纳条纹的出现",
    "learned.replay": "快照（评估）",
    "learned.replay_help": "每次评估一张快照（最多 40 张，均匀分布在整个训练中）。",
    "learned.replay_head": "头",
    "learned.replay_step": "步数",
    "learned.induction_now": "此时的归纳分数",
    "learned.prev_now": "此时的前一词元分数",
    "learned.fig_stripe": "{head}：第 {step} 步时在重复序列上的注意力",
    "learned.stripe_caption": "行是查询词元，列是键。虚线是归纳头注视的位置：从第二份中的一个词元，指向它在第一"
    "份中后面的那个词元（向前 n = {n} 个位置再加一）。前一词元头点亮的则是主对角线正下方的那条对角线。",
    "learned.no_replay": "这份记录里没有重复序列上的快照（只有在本应用里训练、记录仍在服务器上的模型才有）。",
    "learned.head": "L{layer} H{head}",
    "learned.step_heads": "3 · 当前模型的各个头",
    "learned.heads_explain": "对所有页面正在使用的模型，现在在一个新的重复随机序列上测量同样的分数——所以演示"
    "模型和任何上传的模型都可以看。复制分数衡量一个头通过它的值和输出，是否提高了它所注视的词元的 logit"
    "（1：复制，−1：抑制）。",
    "learned.context_too_short": "上下文太短，放不下重复序列（至少需要 4 个词元）。",
    "learned.layer_row": "第 {layer} 层",
    "learned.head_col": "头 {head}",
    "learned.fig_now_induction": "归纳分数",
    "learned.fig_now_prev": "前一词元分数",
    "learned.fig_now_copying": "复制分数",
    "learned.copying": "复制分数",
    "learned.heads_caption": "归纳头：归纳分数高（通常复制分数也高），并且位于某个有前一词元头的层之后。",
    "learned.step_lens": "4 · 逻辑透镜（logit lens）：每一层会预测什么",
    "learned.lens_explain": "让模型在任意一个子层之后停下，把那时的残差流送进最终的层归一化和反嵌入，读出它会"
    "做出的预测。在重复的文本上，正确的下一个词元往往要到归纳头所在的层之后才出现。",
    "learned.lens_text": "你的提示文本",
    "learned.lens_text_help": "重复一句话就能看到复制；只使用前 {context} 个词元。",
    "learned.lens_position": "在这个词元之后预测",
    "learned.lens_next": "真正的下一个词元：{token}",
    "learned.lens_last": "这是最后一个词元：它后面是什么不在文本里。",
    "learned.col_stage": "在……之后",
    "learned.col_rank": "第 {k} 名（概率）",
    "learned.col_next_p": "真正下一个词元的概率",
    "learned.col_next_rank": "它的名次",
    "learned.fig_lens": "每个子层之后（行）、每个位置上，真正下一个词元的概率",
    "learned.lens_check": "在最后一个阶段，透镜的结果等于模型自己的 logits：最大差值 {diff}。",
    "learned.step_ablation": "5 · 消融一个头：哪些头重要？",
    "learned.ablation_explain": "点一个头把它关掉（输出换成零，或换成它的平均值），再测一次损失：一是在重复"
    "序列的第二份上（那里只有复制才有帮助），二是在普通文本上。柱状图对每个头都做了一遍。",
    "learned.mode": "消融方式",
    "learned.mode_zero": "置零",
    "learned.mode_mean": "取平均",
    "learned.ablate_head": "要关掉的头",
    "learned.copy_loss": "重复部分上的损失（关掉该头）",
    "learned.copy_loss_help": "完整模型：{before}。重复随机序列的第二份只有靠复制才能预测。",
    "learned.text_loss": "文本上的损失（关掉该头）",
    "learned.text_loss_help": "完整模型：{before}。",
    "learned.ablation_text_corpus": "文本：模型所用内置语料的留出文本（与训练文本的随机种子不同）。",
    "learned.ablation_text_prompt": "文本：你的提示文本（这个模型不是在内置语料上训练的）。",
    "learned.bar_probe": "Δ 损失（重复部分）",
    "learned.bar_text": "Δ 损失（文本）",
    "learned.bar_axis": "损失变化（nats）",
    "learned.fig_ablation": "哪些头重要：关掉每个头时损失的变化",
    "learned.go_train": "训练一个模型（第 7 页）",
    "learned.go_explorer": "查看每个头的注意力（第 5 页）",
}
