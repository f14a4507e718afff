"""Train page strings (and the job runner's status messages)."""

EN = {
    "train.go_learned": "What did it learn? Its induction heads, loss bump and in-context learning, live (page 10)",
    "train.intro": "Train a real GPT-style Transformer here, on this server, and watch it learn. Training "
    "runs in the background: you can move around, switch the language or visit other pages, and it keeps "
    "going. When it ends, its model becomes the one every page uses.",
    "train.formula_note": "The model learns by minimising this loss: the average, over a batch of B windows "
    "of "
    "T tokens, of −log of the probability it gave to the true next token (nats per token). An untrained "
    "model guesses uniformly: loss ≈ ln V for a vocabulary of V tokens.",
    "train.explanation": "**What happens in one step.** A batch of random windows of the text goes through "
    "the model; at every position it predicts the next token (a causal, GPT-style model: a mask hides the "
    "future). The loss above is back-propagated and AdamW nudges every weight.\n\n"
    "**Learning rate.** It warms up linearly for the first steps (Adam's estimates are poor at the start), "
    "then follows a cosine down to a tenth. Too high and the loss becomes NaN: the run stops and keeps the "
    "last good weights.\n\n"
    "**Train vs validation loss.** The last 10 % of the text is never trained on. If the validation loss "
    "stays close to the training loss, the model learned the language rather than memorising the text.\n\n"
    "**The dotted line** is the unigram entropy: the loss of a model that only knows how common each "
    "token is. Going below it means the model uses the context.\n\n"
    "**Attention snapshots** are the real softmax(QKᵀ/√d_k) weights of the model at each evaluation, on a "
    "fixed piece of validation text: slide through them to see the patterns form.",
    # data
    "train.data_title": "Data",
    "train.corpus": "Training text",
    "train.source.paste": "Paste your own text",
    "train.source.upload": "Upload a .txt file",
    "train.paste_label": "Your text (UTF-8, up to 200 000 characters)",
    "train.paste_placeholder": "Paste a few thousand characters of any text: poems, lyrics, code…",
    "train.paste_hint": "Paste some text above. A few thousand characters or more give the model something "
    "to learn.",
    "train.upload_label": "A UTF-8 text file (.txt)",
    "train.upload_hint": "Up to {limit_mb} MB. Binary files and other encodings are refused with an "
    "explanation.",
    "train.before_title": "Before training",
    "train.chars": "Characters",
    "train.vocab": "Vocabulary (characters)",
    "train.vocab_help": "Distinct characters in the text, plus one 'unknown' token (shown as �).",
    "train.train_tokens": "Training tokens (90 %)",
    "train.val_tokens": "Validation tokens (10 %)",
    "train.split_help": "The last 10 % of the text is held out: never trained on, only used to measure "
    "the validation loss.",
    "train.unigram": "Unigram entropy (nats)",
    "train.unigram_help": "−Σ p(v) log p(v) over token frequencies: the best loss without looking at the "
    "context. A model that goes below it has learned something about order.",
    "train.sample_of_data": "A sample of the text",
    "train.bpe_note": "Byte-level BPE: up to {vocab} tokens are learned from the text when training starts; "
    "the numbers above count characters.",
    # model & optimiser
    "train.model_title": "Model & optimiser",
    "train.preset": "Preset",
    "train.preset.tiny": "Tiny (2 layers)",
    "train.preset.small": "Small (3 layers)",
    "train.preset.live": "Learns most in 60 s (4 layers, Muon)",
    "train.advice.stories-en": "English stories: the default preset writes word-like text within a minute.",
    "train.advice.stories-zh": "Chinese stories: the default preset writes story-like Chinese within a "
    "minute.",
    "train.advice.copy": "Copy: the tiny model. Watch the accuracy: it stays near 0 % for about 1000 "
    "steps, then jumps (97-100 % after 2000 steps here with two different seeds; about a minute). With "
    "rotary positions it was still at 0 % after 1500 steps.",
    "train.advice.sort": "Sort: the tiny model gets almost every answer right after about 1000 steps "
    "(under a minute here).",
    "train.advice.reverse": "Reverse is hard for a tiny model: with rotary positions and a high learning rate "
    "accuracy starts rising after 1000-2000 steps and was over 90 % after 5000 here with four different seeds "
    "(about two minutes); with sinusoidal positions it stayed at 0 % for minutes.",
    "train.advice.add": "Addition needs the carry: with rotary positions and a moderate learning rate the tiny "
    "model suddenly gets the sums right somewhere between 1500 and 3000 steps, depending on the seed (over 98 % "
    "after 3000 here, about two minutes). A higher learning rate stalls it. Watch the loss fall before the answers come out "
    "right.",
    "train.advice.repeats": "Repeated letters: nothing here can be learned but copying from the context. "
    "Watch the loss: it sits near 3.3 (a random letter), then drops suddenly when the model grows an induction "
    "head. Two layers are needed; a one-layer model never gets there.",
    "train.advice.custom": "Your own text: the default preset for a minute. Short texts get memorised: watch "
    "the validation loss.",
    "train.expert": "Expert settings",
    "train.shape": "Shape",
    "train.optimiser": "Optimiser",
    "train.text_and_samples": "Tokens & samples",
    "train.n_layers": "Layers",
    "train.n_heads": "Attention heads",
    "train.d_model": "d_model (width)",
    "train.context_len": "Context (tokens)",
    "train.dropout": "Dropout",
    "train.pos_encoding": "Positional encoding",
    "train.activation": "Feed-forward activation",
    "train.norm_position": "Where LayerNorm sits",
    "train.norm_position_help": "Pre-norm (GPT-2): x + f(LN(x)), trains easily. Post-norm (the 2017 paper): "
    "LN(x + f(x)), needs a gentler learning rate and warm-up.",
    "train.norm.pre": "pre-norm (GPT-2)",
    "train.norm.post": "post-norm (the paper)",
    "train.attention_only": "Attention only (no feed-forward)",
    "train.attention_only_help": "Blocks without their feed-forward network, as in the induction-head paper "
    "(Olsson et al. 2022): what the model learns then lives in its attention heads.",
    "train.tie_weights": "Tie input and output embeddings",
    "train.tie_weights_help": "One matrix both turns tokens into vectors and scores the next token (fewer parameters); untied, each learns its own.",
    "train.batch_size": "Batch size",
    "train.learning_rate": "Learning rate",
    "train.learning_rate_help": "The peak of the schedule. With Muon it is the rate of the weights AdamW "
    "still trains (embeddings, output layer, gains); the matrices use Muon's own rate on the same schedule.",
    "train.optimizer": "Update rule",
    "train.optimizer.adamw": "AdamW",
    "train.optimizer.muon": "Muon (+ AdamW)",
    "train.optimizer_about.adamw": "AdamW divides each weight's gradient by its running size, so every weight "
    "moves by about the learning rate per step, whatever the size of its gradient.",
    "train.optimizer_about.muon": "Muon orthogonalises each weight matrix's momentum, so a step moves every "
    "direction the gradient found by the same amount instead of mostly the strongest few (the matrices at "
    "Muon's rate {muon_lr}, embeddings, output layer and gains with AdamW).",
    "train.schedule": "Learning-rate schedule",
    "train.schedule.cosine": "cosine",
    "train.schedule.trapezoid": "trapezoid",
    "train.schedule_about.cosine": "After the warm-up the learning rate falls along a cosine, down to "
    "{floor} % of its peak at the end of the run.",
    "train.schedule_about.trapezoid": "After the warm-up the learning rate stays at its peak, then falls in "
    "a straight line to zero over the last {decay} % of the run.",
    "train.warmup_steps": "Warm-up steps",
    "train.budget": "Train for",
    "train.budget.time": "a time budget",
    "train.budget.steps": "a number of steps",
    "train.time_budget": "Seconds of training",
    "train.max_steps": "Steps",
    "train.tokenizer": "Tokenizer",
    "train.tokenizer.char": "characters",
    "train.tokenizer.bpe": "byte-level BPE",
    "train.bpe_vocab": "BPE vocabulary size",
    "train.sample_every": "A sample every N steps (0 = automatic)",
    "train.sample_every_help": "Automatic: about ten samples per run.",
    "train.sample_prompt": "Sample prompt",
    "train.parameters": "Parameters",
    "train.memory": "Memory (estimate)",
    "train.memory_help": "Weights, gradients, AdamW's two moment buffers and the activations kept for the "
    "backward pass (an upper bound).",
    "train.estimated_time": "Estimated time",
    "train.estimate_help": "The time budget, or steps × an estimated step time (FLOPs ≈ 6 · parameters · "
    "tokens plus attention, at a conservative rate measured on this server). Waiting in the queue is extra.",
    "train.steps_label": "Steps",
    "train.tokens_per_step": "{tokens} tokens per step (batch × context).",
    "train.refused": "These settings cannot be trained here; change them to start.",
    "train.server_load": "Server: {running} of {slots} training slots busy, {queued} waiting.",
    # controls
    "train.start": "Start training",
    "train.one_at_a_time": "One run at a time per student: stop or wait for the current run to start "
    "another.",
    "train.pause": "Pause",
    "train.resume": "Resume",
    "train.stop": "Stop",
    "train.reset": "Reset",
    "train.reset_help": "Stop this run (if it trains) and clear the view. The run stays in your list below.",
    "train.use_model": "Use this model on every page",
    "train.model_in_use": "Used on every page",
    "train.download": "Download checkpoint (.zip)",
    "train.now_active": "Training ended: this model is now used on every page (see the sidebar).",
    "train.stopping": "Stopping…",
    # live view
    "train.live_title": "Training",
    "train.run": "Run",
    "train.queued": "Waiting in the queue: position {position}. Other students' runs are training; yours "
    "starts as soon as a slot is free.",
    "train.preparing": "Preparing: reading the text, building the tokenizer and the model…",
    "train.progress": "step {step} · {elapsed} trained · about {eta} left",
    "train.seconds": "{n} s",
    "train.minutes": "{m} min {s} s",
    "train.step": "step",
    "train.train_loss": "training loss",
    "train.val_loss": "validation loss",
    "train.tokens_per_sec": "tokens / s",
    "train.accuracy": "exact match",
    "train.accuracy_help": "Share of fresh test questions (never in the training text) answered exactly "
    "right "
    "with greedy decoding.",
    "train.log_y": "Logarithmic loss axis",
    "train.loss_axis": "loss (nats / token)",
    "train.lr_axis": "learning rate",
    "train.unigram_line": "unigram entropy",
    "train.loss_caption": "Solid: training loss (average over the last steps); dashed: validation loss on "
    "held-out text; dotted: the unigram entropy of the text.",
    "train.samples_title": "Samples as it learns",
    "train.samples_caption": "Each continues the prompt shown here (temperature 0.8, the same seed each "
    "time); "
    "newest first.",
    "train.sample_at": "after step {step}",
    "train.sample": "sample",
    "train.attention_title": "Attention as it learns",
    "train.snapshot": "Snapshot (replay how attention formed)",
    "train.snapshot_help": "One snapshot per evaluation. Move to the far right to follow training.",
    "train.attention_at": "Attention at step {step}, layer {layer}, head {head}",
    "train.queries": "token (query)",
    "train.attention_caption": "Each row is one token of a fixed validation text; it shows how its attention "
    "(softmax of the scaled dot products, a row sums to 1) is spread over the tokens before it. Above the "
    "diagonal is always 0: the causal mask hides the future.",
    # comparing runs
    "train.compare_title": "Your runs",
    "train.compare_caption": "Every run of this session, side by side: overlay their validation losses to "
    "compare settings (e.g. sinusoidal vs learned positions, 1 vs 4 heads).",
    "train.compare_select": "Runs on the chart",
    "train.compare_x": "Horizontal axis",
    "train.compare_x.step": "step",
    "train.compare_x.time": "seconds of training",
    "train.open_run": "Show this run above",
    "train.col.run": "run",
    "train.col.status": "status",
    "train.col.seconds": "seconds",
    "train.col.final_val": "final val loss",
    "train.col.best_val": "best val loss",
    # upload
    "train.upload_title": "Load a downloaded model",
    "train.upload_checkpoint_hint": "A .zip downloaded from this page (model.safetensors + tinylm.json). "
    "Pickles and PyTorch .pt files are refused: they can run code when loaded.",
    "train.upload_checkpoint": "Checkpoint (.zip)",
    "train.uploaded": "Checkpoint loaded: it is now a run of yours and the model every page uses.",
    "train.run_not_found": "That run does not exist (any more): finished runs are kept only up to a limit, "
    "and a link must be copied exactly.",
    # statuses
    "train.status.queued": "waiting in the queue",
    "train.status.preparing": "preparing",
    "train.status.running": "training",
    "train.status.paused": "paused",
    "train.status.done": "finished",
    "train.status.stopped": "stopped",
    "train.status.failed": "failed (loss became NaN)",
    "train.status.error": "could not start",
    "train.status.interrupted": "interrupted",
    "train.status.uploaded": "uploaded",
    # why a run ended
    "train.msg.done": "Finished {steps} steps.",
    "train.msg.user": "Stopped at step {steps}. The model trained so far is kept.",
    "train.msg.stopped": "Stopped at step {steps}. The model trained so far is kept.",
    "train.msg.cancelled": "Cancelled before training started.",
    "train.msg.abandoned": "Stopped at step {steps} because no browser was watching it any more. The model "
    "trained so far is kept.",
    "train.msg.pause_cap": "Stopped at step {steps}: its pauses added up to more than 10 minutes (a paused "
    "run holds a training slot others are waiting for). The model is kept.",
    "train.msg.time_cap": "Stopped at step {steps}: a run may take at most its time budget plus 10 minutes of "
    "pauses here (and train for 10 minutes at most).",
    "train.msg.shutdown": "Stopped at step {steps}: the server was shutting down. The model trained so far is "
    "kept.",
    "train.msg.nan": "The loss became NaN at step {step}: the learning rate ({lr}) is probably too high. "
    "Training stopped and the weights from step {good_step} (the last good ones) were kept. Try a smaller "
    "learning rate.",
    "train.msg.interrupted": "The server restarted (or the machine training it stopped) while this run was "
    "training.",
    "train.interrupted_with_model": "Its last saved checkpoint, from step {step}, can still be used and "
    "downloaded.",
    "train.interrupted_no_model": "It had not saved a checkpoint yet: there is no model to use or download.",
    "train.not_yours": "You are watching a run someone else started: only they can pause, stop or reset it.",
    "train.queued_wait": "About {wait} until it starts (estimated from the runs ahead of it and their "
    "measured speed).",
    # refusals by the job runner
    "error.queue_full": "The server is full: {limit} runs are already waiting. Please try again in a minute.",
    "error.too_long": "A run may train for at most {limit} seconds here (you chose {value}).",
    "error.too_many_steps": "A run may train for at most {limit} steps here (you chose {value}).",
    "error.too_much_memory": "This would need about {memory_mb} MB of memory; one run may use at most "
    "{limit_mb} MB. Choose a smaller batch, context or model.",
    "error.too_slow": "{steps} steps of this model would take about {minutes} minutes; a run may take "
    "at "
    "most {limit_minutes}. Choose fewer steps or a smaller model.",
}

ZH = {
    "train.go_learned": "它学到了什么？实时查看它的归纳头、损失鼓包和上下文学习（第 10 页）",
    "train.intro": "在这台服务器上亲手训练一个真实的 GPT 式 Transformer，看它如何学习。训练在后台进行："
    "你可以随意操作、切换语言或访问其他页面，它都会继续。训练结束后，它的模型会成为所有页面使用的模型。",
    "train.formula_note": "模型通过最小化这个损失来学习：对一批 B 个长度为 T 的窗口，取模型给“真实下一个词元”"
    "的概率的 −log 的平均值（单位：纳特/词元）。未训练的模型均匀乱猜：词表有 V 个词元时，损失约为 ln V。",
    "train.explanation": "**一步训练做了什么。** 从文本中随机取一批窗口送进模型；模型在每个位置预测下一个词元"
    "（因果的 GPT 式模型：掩码遮住未来）。把上面的损失反向传播，再由 AdamW 微调每个权重。\n\n"
    "**学习率。** 前若干步线性预热（一开始 Adam 的估计还不准），之后按余弦曲线降到十分之一。学习率太高，"
    "损失会变成 NaN：训练随即停止，并保留最后一组正常的权重。\n\n"
    "**训练损失与验证损失。** 文本的最后 10% 从不参与训练。如果验证损失和训练损失接近，说明模型学到的是语言"
    "规律，而不是死记硬背文本。\n\n"
    "**点线**是一元熵（unigram entropy）：只知道每个词元出现频率、不看上下文的模型所能达到的损失。"
    "损失低于它，说明模型用上了上下文。\n\n"
    "**注意力快照**是模型每次评估时，在一段固定验证文本上真实计算出的 softmax(QKᵀ/√d_k) 权重："
    "拖动滑块，看注意力模式如何逐渐形成。",
    "train.data_title": "数据",
    "train.corpus": "训练文本",
    "train.source.paste": "粘贴你自己的文本",
    "train.source.upload": "上传 .txt 文件",
    "train.paste_label": "你的文本（UTF-8，最多 200 000 个字符）",
    "train.paste_placeholder": "粘贴几千个字符的任意文本：诗歌、歌词、代码……",
    "train.paste_hint": "请在上方粘贴一些文本。几千个字符或更多，模型才有东西可学。",
    "train.upload_label": "UTF-8 编码的文本文件（.txt）",
    "train.upload_hint": "最大 {limit_mb} MB。二进制文件或其他编码的文件会被拒绝，并说明原因。",
    "train.before_title": "训练之前",
    "train.chars": "字符数",
    "train.vocab": "词表大小（字符）",
    "train.vocab_help": "文本中不同字符的个数，再加一个“未知”词元（显示为 �）。",
    "train.train_tokens": "训练词元（90%）",
    "train.val_tokens": "验证词元（10%）",
    "train.split_help": "文本的最后 10% 被留出：从不用于训练，只用来计算验证损失。",
    "train.unigram": "一元熵（纳特）",
    "train.unigram_help": "按词元频率计算的 −Σ p(v) log p(v)：不看上下文时能达到的最好损失。"
    "模型的损失低于它，说明学到了词序方面的规律。",
    "train.sample_of_data": "文本样例",
    "train.bpe_note": "字节级 BPE：开始训练时从文本中学习最多 {vocab} 个词元；上面的数字按字符计算。",
    "train.model_title": "模型与优化器",
    "train.preset": "预设",
    "train.preset.tiny": "微型（2 层）",
    "train.preset.small": "小型（3 层）",
    "train.preset.live": "60 秒内学得最多（4 层，Muon）",
    "train.advice.stories-en": "英文小故事：默认预设一分钟内就能写出像单词的文字。",
    "train.advice.stories-zh": "中文小故事：默认预设一分钟内就能写出像故事的中文。",
    "train.advice.copy": "复制：微型模型。留意准确率：前 1000 步左右几乎是 0%，然后突然跃升"
    "（在这里用两个不同的随机种子，2000 步后 97%-100%；约一分钟）。换成旋转位置编码，1500 步后仍是 0%。",
    "train.advice.sort": "排序：微型模型大约 1000 步后几乎全部答对（在这里不到一分钟）。",
    "train.advice.reverse": "倒序对小模型来说很难：用旋转位置编码和较高的学习率，准确率在 1000 到 2000 步之后开始上升，"
    "在这里用四个不同的随机种子 5000 步后都超过 90%（约两分钟）；用正弦位置编码，几分钟后仍是 0%。",
    "train.advice.add": "加法需要处理进位：用旋转位置编码和适中的学习率，微型模型会在 1500 到 3000 步之间突然学会（"
    "取决于随机种子；在这里 3000 步后超过 98%，约两分钟）。学习率再高反而学不会。留意损失先下降，答案后变对。",
    "train.advice.repeats": "重复字母：这里除了从上下文中复制，什么也学不到。留意损失：它先停在 3.3 附近（随机字母），"
    "等模型长出归纳头时会突然下降。至少需要两层；一层模型永远做不到。",
    "train.advice.custom": "你自己的文本：默认预设训练一分钟。文本太短会被模型背下来：请留意验证损失。",
    "train.expert": "专家设置",
    "train.shape": "模型形状",
    "train.optimiser": "优化器",
    "train.text_and_samples": "词元与样例",
    "train.n_layers": "层数",
    "train.n_heads": "注意力头数",
    "train.d_model": "d_model（宽度）",
    "train.context_len": "上下文长度（词元）",
    "train.dropout": "Dropout（随机失活）",
    "train.pos_encoding": "位置编码",
    "train.activation": "前馈网络激活函数",
    "train.norm_position": "LayerNorm 的位置",
    "train.norm_position_help": "前置归一化（GPT-2）：x + f(LN(x))，容易训练。后置归一化（2017 年论文）：LN(x + f(x))，"
    "需要更小的学习率和预热。",
    "train.norm.pre": "前置归一化（GPT-2）",
    "train.norm.post": "后置归一化（论文）",
    "train.attention_only": "只有注意力（没有前馈网络）",
    "train.attention_only_help": "去掉每个块的前馈网络，和归纳头论文（Olsson 等，2022）一样：模型学到的东西都在注意力头里。",
    "train.tie_weights": "输入与输出嵌入共享权重",
    "train.tie_weights_help": "同一个矩阵既把词元变成向量，又给下一个词元打分（参数更少）；不共享时两者各自学习。",
    "train.batch_size": "批大小",
    "train.learning_rate": "学习率",
    "train.learning_rate_help": "学习率调度的峰值。用 Muon 时，它是仍由 AdamW 训练的权重（嵌入、输出层、增益）的学习率；"
    "各个矩阵按同一调度使用 Muon 自己的学习率。",
    "train.optimizer": "更新规则",
    "train.optimizer.adamw": "AdamW",
    "train.optimizer.muon": "Muon（+ AdamW）",
    "train.optimizer_about.adamw": "AdamW 把每个权重的梯度除以它的滑动平均幅度，所以不管梯度大小，每个权重每步大约移动一个学习率。",
    "train.optimizer_about.muon": "Muon 先把每个权重矩阵的动量正交化，让梯度找到的每个方向都移动同样多，而不是主要只动最强的几个方向"
    "（矩阵用 Muon 的学习率 {muon_lr}，嵌入、输出层和增益仍用 AdamW）。",
    "train.schedule": "学习率调度",
    "train.schedule.cosine": "余弦",
    "train.schedule.trapezoid": "梯形",
    "train.schedule_about.cosine": "预热之后，学习率沿余弦曲线下降，训练结束时降到峰值的 {floor}%。",
    "train.schedule_about.trapezoid": "预热之后，学习率保持在峰值，然后在最后 {decay}% 的训练中沿直线降到零。",
    "train.warmup_steps": "预热步数",
    "train.budget": "训练时长",
    "train.budget.time": "按时间",
    "train.budget.steps": "按步数",
    "train.time_budget": "训练秒数",
    "train.max_steps": "步数",
    "train.tokenizer": "分词器",
    "train.tokenizer.char": "按字符",
    "train.tokenizer.bpe": "字节级 BPE",
    "train.bpe_vocab": "BPE 词表大小",
    "train.sample_every": "每 N 步生成一段样例（0 = 自动）",
    "train.sample_every_help": "自动：每次训练大约生成十段样例。",
    "train.sample_prompt": "样例提示词",
    "train.parameters": "参数量",
    "train.memory": "内存（估计）",
    "train.memory_help": "权重、梯度、AdamW 的两组动量缓冲区，以及反向传播需要保留的激活值（上限估计）。",
    "train.estimated_time": "预计用时",
    "train.estimate_help": "按时间训练时就是时间预算；按步数训练时为步数 × 估计的每步用时（FLOPs ≈ 6 · 参数量"
    " · "
    "词元数，再加上注意力部分，按在本服务器上测得的保守速度计算）。排队等待的时间不计在内。",
    "train.steps_label": "步数",
    "train.tokens_per_step": "每步 {tokens} 个词元（批大小 × 上下文长度）。",
    "train.refused": "这些设置在这里无法训练；请修改后再开始。",
    "train.server_load": "服务器：{slots} 个训练名额中有 {running} 个在用，{queued} 个在排队。",
    "train.start": "开始训练",
    "train.one_at_a_time": "每位同学同一时间只能训练一个模型：请先停止当前训练或等它结束。",
    "train.pause": "暂停",
    "train.resume": "继续",
    "train.stop": "停止",
    "train.reset": "重置",
    "train.reset_help": "停止本次训练（如果还在训练）并清空视图。这次训练仍保留在下方的列表中。",
    "train.use_model": "在所有页面使用这个模型",
    "train.model_in_use": "所有页面正在使用",
    "train.download": "下载检查点（.zip）",
    "train.now_active": "训练结束：所有页面现在都使用这个模型（见侧边栏）。",
    "train.stopping": "正在停止……",
    "train.live_title": "训练过程",
    "train.run": "本次训练",
    "train.queued": "正在排队：第 {position} 位。其他同学的模型正在训练，一有空闲名额就轮到你。",
    "train.preparing": "准备中：读取文本、构建分词器和模型……",
    "train.progress": "第 {step} 步 · 已训练 {elapsed} · 约剩 {eta}",
    "train.seconds": "{n} 秒",
    "train.minutes": "{m} 分 {s} 秒",
    "train.step": "步数",
    "train.train_loss": "训练损失",
    "train.val_loss": "验证损失",
    "train.tokens_per_sec": "词元/秒",
    "train.accuracy": "完全匹配准确率",
    "train.accuracy_help": "用贪心解码回答新的测试题（从未出现在训练文本中），答案完全正确的比例。",
    "train.log_y": "损失轴使用对数刻度",
    "train.loss_axis": "损失（纳特/词元）",
    "train.lr_axis": "学习率",
    "train.unigram_line": "一元熵",
    "train.loss_caption": "实线：训练损失（最近若干步的平均）；虚线：在留出文本上的验证损失；点线：文本的一元"
    "熵。",
    "train.samples_title": "学习过程中的样例",
    "train.samples_caption": "每段都接着这里显示的提示词往下写（温度 0.8，每次使用相同的随机种子），最新的在"
    "最上面。",
    "train.sample_at": "第 {step} 步之后",
    "train.sample": "样例",
    "train.attention_title": "学习过程中的注意力",
    "train.snapshot": "快照（回放注意力如何形成）",
    "train.snapshot_help": "每次评估保存一张快照。拖到最右边即可跟随训练实时更新。",
    "train.attention_at": "第 {step} 步，第 {layer} 层，第 {head} 个头的注意力",
    "train.queries": "词元（查询）",
    "train.attention_caption": "每一行是一段固定验证文本中的一个词元，显示它的注意力（缩放点积再做 softmax，"
    "每行加起来等于 1）如何分配到它前面的词元上。对角线以上永远是 0：因果掩码遮住了未来。",
    "train.compare_title": "你的训练记录",
    "train.compare_caption": "本次会话的所有训练并排比较：叠加它们的验证损失来比较不同设置"
    "（例如正弦与可学习位置编码、1 个头与 4 个头）。",
    "train.compare_select": "图中显示的训练",
    "train.compare_x": "横轴",
    "train.compare_x.step": "步数",
    "train.compare_x.time": "训练秒数",
    "train.open_run": "在上方显示这次训练",
    "train.col.run": "训练",
    "train.col.status": "状态",
    "train.col.seconds": "秒",
    "train.col.final_val": "最终验证损失",
    "train.col.best_val": "最佳验证损失",
    "train.upload_title": "载入下载过的模型",
    "train.upload_checkpoint_hint": "从本页下载的 .zip 文件（model.safetensors + tinylm.json）。"
    "pickle 文件和 PyTorch .pt 文件会被拒绝：加载它们可能会执行代码。",
    "train.upload_checkpoint": "检查点（.zip）",
    "train.uploaded": "检查点已载入：它成为你的一次训练记录，所有页面也都改用这个模型。",
    "train.run_not_found": "这次训练不存在（或已被删除）：已结束的训练只保留一定数量，链接也必须完整复制。",
    "train.status.queued": "排队中",
    "train.status.preparing": "准备中",
    "train.status.running": "训练中",
    "train.status.paused": "已暂停",
    "train.status.done": "已完成",
    "train.status.stopped": "已停止",
    "train.status.failed": "失败（损失变成了 NaN）",
    "train.status.error": "无法开始",
    "train.status.interrupted": "已中断",
    "train.status.uploaded": "已上传",
    "train.msg.done": "已完成 {steps} 步。",
    "train.msg.user": "在第 {steps} 步停止。到目前为止训练出的模型已保留。",
    "train.msg.stopped": "在第 {steps} 步停止。到目前为止训练出的模型已保留。",
    "train.msg.cancelled": "在训练开始之前已取消。",
    "train.msg.abandoned": "在第 {steps} 步停止，因为已经没有浏览器在查看它了。到目前为止训练出的模型已保留。"
    "",
    "train.msg.pause_cap": "在第 {steps} 步停止：累计暂停超过了 10 分钟（暂停的训练会占用别人正在等待的名额）。"
    "模型已保留。",
    "train.msg.time_cap": "在第 {steps} 步停止：这里每次训练最多用时为时间预算加 10 分钟暂停（训练本身最多 10 分钟）。",
    "train.msg.shutdown": "在第 {steps} 步停止：服务器正在关闭。到目前为止训练出的模型已保留。",
    "train.msg.nan": "损失在第 {step} 步变成了 NaN：学习率（{lr}）可能太高了。训练已停止，并保留了第 "
    "{good_step} 步（最后一组正常）的权重。请试试更小的学习率。",
    "train.msg.interrupted": "训练进行时服务器重启了（或者训练它的机器停止了）。",
    "train.interrupted_with_model": "它最后一次保存的检查点（第 {step} 步）仍然可以使用和下载。",
    "train.interrupted_no_model": "它还没来得及保存检查点：没有可以使用或下载的模型。",
    "train.not_yours": "你在观看别人开始的训练：只有开始它的人可以暂停、停止或重置它。",
    "train.queued_wait": "大约还要等 {wait} 才开始（根据排在前面的训练和它们实测的速度估算）。",
    "error.queue_full": "服务器已满：已经有 {limit} 个训练在排队。请过一分钟再试。",
    "error.too_long": "这里每次训练最多 {limit} 秒（你选择了 {value}）。",
    "error.too_many_steps": "这里每次训练最多 {limit} 步（你选择了 {value}）。",
    "error.too_much_memory": "这需要大约 {memory_mb} MB 内存，而每次训练最多只能用 {limit_mb} MB。"
    "请减小批大小、上下文长度或模型。",
    "error.too_slow": "这个模型训练 {steps} 步大约需要 {minutes} 分钟，而每次训练最多 {limit_minutes} "
    "分钟。"
    "请减少步数或换一个更小的模型。",
}
