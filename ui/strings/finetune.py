"""Page 8 · Fine-tuning strings (and the home page's line for it)."""

EN = {
    "home.path.finetune": "After pre-training: teach the model a new task — full fine-tuning, LoRA, a linear "
    "probe or from scratch — and see why a low-rank update is enough.",
    "finetune.intro": "Pre-training taught the demo model to write little stories. **Fine-tuning** teaches it "
    "something new — answer a question about a story, say whether it ends happily, retell it in another "
    "tense — from a small set of examples, in a few hundred steps. Compare four ways: train every weight "
    "(**full**), train only a small low-rank update (**LoRA**), train only the output layer (**linear "
    "probe**), or start from random weights on the same data (**from scratch**: what pre-training bought).",
    "finetune.formula_note": "LoRA freezes each chosen weight matrix W and learns B·A instead: A starts random "
    "and B at zero, so the adapted model starts identical to the base. Only r·(d_in + d_out) numbers per "
    "matrix train instead of d_out·d_in; α/r keeps the update's size independent of the rank r. After "
    "training, B·A is merged into W: the model costs exactly what the base costs.",
    "finetune.setup_title": "Base, task and mode",
    "finetune.base": "Base model",
    "finetune.task": "Task",
    "finetune.task.qa-en": "Question answering (English)",
    "finetune.task.qa-zh": "Question answering (Chinese)",
    "finetune.task.mood-en": "Happy or sad ending (English)",
    "finetune.task.mood-zh": "Happy or sad ending (Chinese)",
    "finetune.task.tense-en": "Retell in the present tense (English)",
    "finetune.task.tense-zh": "Retell in the present (Chinese)",
    "finetune.task_help.qa-en": "A one-sentence story and a question about it; the answer is one name or "
    "thing from the story. Metric: exact match of the greedy answer on held-out stories. One example:",
    "finetune.task_help.qa-zh": "A one-sentence story and a question about it; the answer is one name or "
    "thing from the story. Metric: exact match of the greedy answer on held-out stories. One example:",
    "finetune.task_help.mood-en": "A short story; the model must answer with one label word, happy or sad. "
    "Metric: label accuracy on held-out stories (always the same label scores 50 %). One example:",
    "finetune.task_help.mood-zh": "A short story; the model must answer with one label word, 开心 or 不开心. "
    "Metric: label accuracy on held-out stories (always the same label scores 50 %). One example:",
    "finetune.task_help.tense-en": "A sentence in the past; the model must retell it in the present tense. "
    "Metric: exact match of the whole retold sentence on held-out sentences. One example:",
    "finetune.task_help.tense-zh": "A sentence with 了 (done); the model must retell it with 正在 (happening "
    "now). Metric: exact match of the whole retold sentence on held-out sentences. One example:",
    "finetune.unfit_title": "Tasks this base cannot learn ({n})",
    "finetune.unfit_intro": "A task fits a base only if the base can read and write every character it uses. "
    "A character the base never saw becomes the *unknown* token: its embedding was never trained and the "
    "output layer has no way to write it, so no amount of fine-tuning would produce it. Those tasks are "
    "left out:",
    "finetune.no_task": "None of the built-in tasks fits this base model (see why above). Choose a demo model, "
    "or a model you trained on the English or Chinese stories.",
    "finetune.mode": "Mode",
    "finetune.mode.full": "Full fine-tuning",
    "finetune.mode.lora": "LoRA",
    "finetune.mode.probe": "Linear probe",
    "finetune.mode.scratch": "From scratch",
    "finetune.mode_lora_rank": "LoRA r = {rank} ({targets})",
    "finetune.mode_help.full": "Every weight trains, starting from the base's. Learns the most, and "
    "overwrites the most of what the base knew.",
    "finetune.mode_help.lora": "The base is frozen; only the low-rank matrices A and B of the chosen "
    "projections train.",
    "finetune.mode_help.probe": "Everything is frozen but the output layer (tied to the token embedding): can "
    "the base's last features already tell the answer?",
    "finetune.mode_help.scratch": "The same shape and tokenizer with random weights, trained on the same small "
    "data: the baseline that shows what pre-training bought.",
    "finetune.rank": "LoRA rank r",
    "finetune.targets": "LoRA targets",
    "finetune.target.q": "Q (query)",
    "finetune.target.k": "K (key)",
    "finetune.target.v": "V (value)",
    "finetune.target.o": "O (attention output)",
    "finetune.target.ffn": "FFN (both matrices)",
    "finetune.steps": "Steps",
    "finetune.base_parameters": "Base parameters",
    "finetune.estimate_help": "The steps alone, estimated from the model's size with one CPU thread; preparing "
    "(a few seconds) and the evaluations of the metric come on top. The run shows the measured seconds per "
    "step.",
    "finetune.recommended": "Recommended steps",
    "finetune.recommended_help": "What this task needs for a high metric with LoRA (measured, "
    "benchmarks/finetune.json).",
    "finetune.start": "Start fine-tuning",
    "finetune.live_title": "Your fine-tuning run",
    "finetune.run": "Run",
    "finetune.preparing": "Preparing: reading the base model and measuring its loss on its pre-training text "
    "(to see forgetting later)…",
    "finetune.progress": "step {step} of {total}",
    "finetune.metric.exact_match": "Exact match",
    "finetune.metric.accuracy": "Accuracy",
    "finetune.metric_help": "On held-out examples the run never trained on: the share answered exactly right "
    "by greedy decoding.",
    "finetune.trainable": "Trainable parameters",
    "finetune.trainable_help": "The numbers the optimizer changes, and their share of all {total} parameters "
    "(LoRA's A and B included).",
    "finetune.s_per_step": "Seconds per step",
    "finetune.forgetting": "Forgetting: loss on the pre-training text",
    "finetune.forgetting_before": "before: {before}",
    "finetune.estimated_steps": "Training steps (estimated)",
    "finetune.forgetting_help": "The validation loss (nats per token) on the base's pre-training text "
    "({corpus}) before and after fine-tuning: how much of what it knew was overwritten.",
    "finetune.use_model": "Use this model on every page",
    "finetune.metric_curve": "held-out metric",
    "finetune.loss_axis": "loss (nats per token)",
    "finetune.chart_metric": "Task metric while fine-tuning",
    "finetune.chart_loss": "Loss on the task's answers",
    "finetune.download_model": "Download the fine-tuned model (.zip)",
    "finetune.download_adapter": "Download the LoRA adapter (.zip)",
    "finetune.adapter_needs_base": "The adapter can be downloaded while its base model is still available.",
    "finetune.before_after_title": "Before and after: the same prompt",
    "finetune.example": "Held-out example",
    "finetune.prompt": "Prompt",
    "finetune.before": "Before (base model)",
    "finetune.after": "After (fine-tuned)",
    "finetune.right": "Expected answer: {answer} — the fine-tuned model gets it right.",
    "finetune.wrong": "Expected answer: {answer} — not quite yet.",
    "finetune.compare_title": "Compare modes side by side",
    "finetune.compare_caption": "Every fine-tuning run of this session: the metric reached, the time it took, "
    "what it trained and what it forgot. Try full fine-tuning, LoRA with r = 1, 4 and 16, the probe and "
    "from scratch on the same task.",
    "finetune.col_run": "run",
    "finetune.col_task": "task",
    "finetune.col_mode": "mode",
    "finetune.col_status": "status",
    "finetune.col_steps": "steps",
    "finetune.col_metric": "metric",
    "finetune.col_time": "time",
    "finetune.col_s_step": "s / step",
    "finetune.col_trainable": "trainable",
    "finetune.col_share": "share",
    "finetune.col_forget_before": "loss on pre-training text before",
    "finetune.col_forget_after": "after",
    "finetune.metric_axis": "held-out metric",
    "finetune.chart_compare": "Held-out metric of each run",
    "finetune.why_title": "Why LoRA works",
    "finetune.why_intro": "LoRA bets that the change fine-tuning needs is nearly low-rank. Check it: take a "
    "full fine-tune's change ΔW of one weight matrix and its singular values σ₁ ≥ σ₂ ≥ …. If the first few "
    "hold most of Σσ², a rank-r update can say almost all of it. A LoRA update has at most r non-zero "
    "singular values.",
    "finetune.why_need_full": "Run a full fine-tune (and a LoRA one on the same base) to see the singular "
    "values of what they changed.",
    "finetune.why_need_lora": "Run LoRA on the same base to draw its rank-r change next to it.",
    "finetune.layer": "Layer",
    "finetune.matrix": "Matrix",
    "finetune.part.q": "W_Q",
    "finetune.part.k": "W_K",
    "finetune.part.v": "W_V",
    "finetune.part.o": "W_O",
    "finetune.part.fc1": "FFN W₁",
    "finetune.part.fc2": "FFN W₂",
    "finetune.sv_full": "full fine-tuning ({task})",
    "finetune.sv_lora": "LoRA r = {rank}",
    "finetune.sv_index": "i (singular value number)",
    "finetune.sv_value": "σᵢ of ΔW",
    "finetune.chart_sv": "Singular values of ΔW, layer {layer}, {part}",
    "finetune.why_share": "The best rank-{rank} matrix holds **{share}** of this full fine-tune's change "
    "(Σ of the first {rank} σ² over all {n}).",
    "finetune.explanation": "**Transfer learning.** A pre-trained model already has useful features: "
    "characters, words, who did what in a story. Fine-tuning reuses them, so a few hundred examples are "
    "enough where training from scratch needs far more.\n\n"
    "**LoRA** (Hu et al., 2021) adds (α/r)·B·A to frozen matrices. Only A and B train, so the optimizer "
    "keeps state for a few per cent of the parameters and an adapter file is a few kilobytes; merged "
    "into W after training it costs nothing per token. At this toy size a LoRA step is *not* much cheaper "
    "than a full step (with all five targets it is even a little slower): the forward and backward passes "
    "through the frozen base are needed either way, the extra thin matrix products add work, and the "
    "optimizer step that LoRA saves is small here. The savings in memory and optimizer state matter for "
    "large models.\n\n"
    "**Forgetting.** Every mode that changes the shared weights moves the model away from its "
    "pre-training text; the loss before and after shows how far.",
}

ZH = {
    "home.path.finetune": "预训练之后：教模型一个新任务——全量微调、LoRA、线性探针或从零训练——看看为什么低秩更新就够了。",
    "finetune.intro": "预训练让演示模型学会了写小故事。**微调**用一小批例子、几百步训练教它一件新事情："
    "回答关于故事的问题、判断故事结局开心还是不开心、把故事换一种时态重讲。这里比较四种做法：训练所有权重"
    "（**全量微调**）、只训练一个小小的低秩更新（**LoRA**）、只训练输出层（**线性探针**），以及用同样的数据"
    "从随机权重开始训练（**从零训练**：看看预训练到底带来了什么）。",
    "finetune.formula_note": "LoRA 冻结选中的每个权重矩阵 W，只学习 B·A：A 随机初始化、B 从零开始，所以适配后的"
    "模型一开始和基础模型完全一样。每个矩阵只训练 r·(d_in + d_out) 个数，而不是 d_out·d_in 个；α/r 让更新的"
    "大小不随秩 r 变化。训练结束后 B·A 合并进 W：模型的计算量和基础模型一模一样。",
    "finetune.setup_title": "基础模型、任务和方式",
    "finetune.base": "基础模型",
    "finetune.task": "任务",
    "finetune.task.qa-en": "问答（英文）",
    "finetune.task.qa-zh": "问答（中文）",
    "finetune.task.mood-en": "结局开心还是难过（英文）",
    "finetune.task.mood-zh": "结局开心还是不开心（中文）",
    "finetune.task.tense-en": "改用现在时重讲（英文）",
    "finetune.task.tense-zh": "改成“正在”重讲（中文）",
    "finetune.task_help.qa-en": "一句话的小故事和一个关于它的问题；答案是故事里的一个名字或东西。"
    "指标：在没训练过的故事上，贪心解码的答案完全正确的比例。例子：",
    "finetune.task_help.qa-zh": "一句话的小故事和一个关于它的问题；答案是故事里的一个名字或东西。"
    "指标：在没训练过的故事上，贪心解码的答案完全正确的比例。例子：",
    "finetune.task_help.mood-en": "一个小故事；模型要用一个标签词回答：happy 或 sad。"
    "指标：在没训练过的故事上的标签准确率（总答同一个标签只有 50 %）。例子：",
    "finetune.task_help.mood-zh": "一个小故事；模型要用一个标签词回答：开心 或 不开心。"
    "指标：在没训练过的故事上的标签准确率（总答同一个标签只有 50 %）。例子：",
    "finetune.task_help.tense-en": "一个过去时的句子；模型要用现在时重讲一遍。"
    "指标：在没训练过的句子上，整句重讲完全正确的比例。例子：",
    "finetune.task_help.tense-zh": "一个带“了”（已经做完）的句子；模型要改用“正在”（正在发生）重讲一遍。"
    "指标：在没训练过的句子上，整句重讲完全正确的比例。例子：",
    "finetune.unfit_title": "这个基础模型学不了的任务（{n} 个）",
    "finetune.unfit_intro": "只有当基础模型能读、能写任务用到的每一个字符时，任务才适合它。基础模型没见过的"
    "字符会变成*未知*词元：它的嵌入从来没被训练过，输出层也没办法写出它，所以再怎么微调也写不出来。"
    "下面这些任务因此没有列出：",
    "finetune.no_task": "内置任务都不适合这个基础模型（原因见上）。请选择一个演示模型，或者你在英文或中文"
    "故事上训练的模型。",
    "finetune.mode": "方式",
    "finetune.mode.full": "全量微调",
    "finetune.mode.lora": "LoRA",
    "finetune.mode.probe": "线性探针",
    "finetune.mode.scratch": "从零训练",
    "finetune.mode_lora_rank": "LoRA r = {rank}（{targets}）",
    "finetune.mode_help.full": "所有权重都参与训练，从基础模型的权重出发。学得最多，也覆盖掉基础模型原有知识最多。",
    "finetune.mode_help.lora": "基础模型冻结；只训练所选投影矩阵上的低秩矩阵 A 和 B。",
    "finetune.mode_help.probe": "除了输出层（与词元嵌入共享）以外全部冻结：基础模型最后一层的特征本身能不能"
    "看出答案？",
    "finetune.mode_help.scratch": "同样的结构和分词器，但权重是随机的，用同样的小数据训练：这个基准能看出"
    "预训练带来了什么。",
    "finetune.rank": "LoRA 的秩 r",
    "finetune.targets": "LoRA 作用的矩阵",
    "finetune.target.q": "Q（查询）",
    "finetune.target.k": "K（键）",
    "finetune.target.v": "V（值）",
    "finetune.target.o": "O（注意力输出）",
    "finetune.target.ffn": "FFN（两个矩阵）",
    "finetune.steps": "步数",
    "finetune.base_parameters": "基础模型参数",
    "finetune.estimate_help": "只算训练步骤，按模型大小、单个 CPU 线程估算；准备（几秒钟）和评估指标的时间另算。"
    "运行时会显示实测的每步秒数。",
    "finetune.recommended": "推荐步数",
    "finetune.recommended_help": "这个任务用 LoRA 达到较高指标需要的步数（实测，benchmarks/finetune.json）。",
    "finetune.start": "开始微调",
    "finetune.live_title": "你的微调运行",
    "finetune.run": "运行",
    "finetune.preparing": "准备中：读取基础模型，并测量它在预训练文本上的损失（之后用来看遗忘）……",
    "finetune.progress": "第 {step} 步，共 {total} 步",
    "finetune.metric.exact_match": "完全匹配率",
    "finetune.metric.accuracy": "准确率",
    "finetune.metric_help": "在运行从没训练过的例子上：贪心解码答得完全正确的比例。",
    "finetune.trainable": "可训练参数",
    "finetune.trainable_help": "优化器会改动的数，以及它们占全部 {total} 个参数（含 LoRA 的 A 和 B）的比例。",
    "finetune.s_per_step": "每步秒数",
    "finetune.forgetting": "遗忘：预训练文本上的损失",
    "finetune.forgetting_before": "之前：{before}",
    "finetune.estimated_steps": "训练步骤用时（估计）",
    "finetune.forgetting_help": "基础模型在它的预训练文本（{corpus}）上的验证损失（每个词元的奈特数），"
    "微调之前和之后：原来会的东西被覆盖了多少。",
    "finetune.use_model": "在所有页面使用这个模型",
    "finetune.metric_curve": "留出样本上的指标",
    "finetune.loss_axis": "损失（每个词元的奈特数）",
    "finetune.chart_metric": "微调过程中的任务指标",
    "finetune.chart_loss": "任务答案上的损失",
    "finetune.download_model": "下载微调后的模型（.zip）",
    "finetune.download_adapter": "下载 LoRA 适配器（.zip）",
    "finetune.adapter_needs_base": "只要基础模型还在，就可以下载适配器。",
    "finetune.before_after_title": "前后对比：同一个提示",
    "finetune.example": "留出的例子",
    "finetune.prompt": "提示",
    "finetune.before": "之前（基础模型）",
    "finetune.after": "之后（微调后）",
    "finetune.right": "正确答案：{answer}——微调后的模型答对了。",
    "finetune.wrong": "正确答案：{answer}——还没答对。",
    "finetune.compare_title": "并排比较各种方式",
    "finetune.compare_caption": "本次会话的每次微调：达到的指标、用时、训练了多少参数、遗忘了多少。在同一个"
    "任务上试试全量微调、r = 1、4、16 的 LoRA、线性探针和从零训练。",
    "finetune.col_run": "运行",
    "finetune.col_task": "任务",
    "finetune.col_mode": "方式",
    "finetune.col_status": "状态",
    "finetune.col_steps": "步数",
    "finetune.col_metric": "指标",
    "finetune.col_time": "用时",
    "finetune.col_s_step": "秒 / 步",
    "finetune.col_trainable": "可训练参数",
    "finetune.col_share": "占比",
    "finetune.col_forget_before": "预训练文本上的损失（之前）",
    "finetune.col_forget_after": "之后",
    "finetune.metric_axis": "留出样本上的指标",
    "finetune.chart_compare": "每次运行在留出样本上的指标",
    "finetune.why_title": "LoRA 为什么管用",
    "finetune.why_intro": "LoRA 赌的是：微调需要的改变几乎是低秩的。来验证一下：取全量微调对某个权重矩阵的"
    "改变 ΔW，算出它的奇异值 σ₁ ≥ σ₂ ≥ …。如果前几个就占了 Σσ² 的大部分，秩为 r 的更新就能表达几乎全部的"
    "改变。LoRA 的更新最多只有 r 个非零奇异值。",
    "finetune.why_need_full": "先做一次全量微调（再在同一个基础模型上做一次 LoRA），就能看到它们改变量的奇异值。",
    "finetune.why_need_lora": "在同一个基础模型上做一次 LoRA，就能把它的秩 r 改变画在旁边。",
    "finetune.layer": "层",
    "finetune.matrix": "矩阵",
    "finetune.part.q": "W_Q",
    "finetune.part.k": "W_K",
    "finetune.part.v": "W_V",
    "finetune.part.o": "W_O",
    "finetune.part.fc1": "FFN W₁",
    "finetune.part.fc2": "FFN W₂",
    "finetune.sv_full": "全量微调（{task}）",
    "finetune.sv_lora": "LoRA r = {rank}",
    "finetune.sv_index": "i（第几个奇异值）",
    "finetune.sv_value": "ΔW 的 σᵢ",
    "finetune.chart_sv": "ΔW 的奇异值，第 {layer} 层，{part}",
    "finetune.why_share": "最好的秩 {rank} 矩阵占了这次全量微调改变量的 **{share}**"
    "（前 {rank} 个 σ² 之和除以全部 {n} 个之和）。",
    "finetune.explanation": "**迁移学习。** 预训练模型已经有了有用的特征：字、词、故事里谁做了什么。微调"
    "复用这些特征，所以几百个例子就够了，而从零训练需要多得多的数据。\n\n"
    "**LoRA**（Hu 等，2021）在冻结的矩阵上加上 (α/r)·B·A。只有 A 和 B 参与训练，所以优化器只需要为百分之几"
    "的参数保存状态，适配器文件只有几 KB；训练后合并进 W，每个词元不多花一点计算。在这么小的模型上，LoRA 的"
    "一步*并不*比全量微调的一步便宜多少（作用在全部五类矩阵上时甚至还慢一点）：冻结的基础模型照样要做前向和"
    "反向传播，额外的细长矩阵乘法还会多出一些计算，而 LoRA 省下的优化器更新在这里本来就很小。节省内存和优化器"
    "状态，对大模型才真正重要。\n\n"
    "**遗忘。** 每种会改动共享权重的方式都会让模型偏离它的预训练文本；之前和之后的损失显示偏离了多远。",
}
