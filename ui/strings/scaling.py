"""Page 9 · Scaling strings (and the home page's line for it)."""

EN = {
    "home.path.scaling": "Why “large”? Loss against size, data and compute on log–log axes, and which size "
    "wins for a budget.",
    "error.bad_sweep_file": "The shipped sweep file cannot be read ({detail}). Run the command in the README "
    "to make it again.",
    "error.sweep_failed": "The sweep did not finish ({status}).",
    "scaling.intro": "Why are language models *large*? Because their loss falls in a strikingly regular way "
    "as they grow: on log–log axes, loss against the number of parameters **N**, the tokens trained on "
    "**D** and the compute **C** is close to a straight line that bends towards a floor. Below, a ladder "
    "of five tiny GPTs (11 thousand to 2 million parameters) trained on the English stories shows the same "
    "law at toy scale — and you can train your own ladder and predict each point before it appears.",
    "scaling.formula_note": "E: the loss no model of this family gets below (the text's own randomness, and "
    "what this shape of model cannot learn); A and α: how fast more parameters help. C ≈ 6·N·D counts the "
    "floating-point operations of training (2 per weight per token forward, twice that backward).",
    "scaling.your_title": "Your sweep",
    "scaling.your_caption": "Train the first rungs of the same ladder on the English stories, one size after "
    "the other in your training slot: every size on the same number of tokens, or every size for the same "
    "compute. Its points join the figures below as each size finishes.",
    "scaling.mode": "Every size gets",
    "scaling.mode.tokens": "the same tokens",
    "scaling.mode.compute": "the same compute",
    "scaling.sizes": "Sizes (from the smallest)",
    "scaling.tokens": "Tokens per size",
    "scaling.flops": "Training FLOPs per size",
    "scaling.estimate": "Estimated training time on this server: {time} (more when other students train).",
    "scaling.start": "Start the sweep",
    "scaling.your_sweep": "Your sweep",
    "scaling.preparing": "Preparing: generating the stories, building the tokenizer, planning every size…",
    "scaling.progress": "{done} of {total} sizes done · now {size} · {elapsed} of training",
    "scaling.progress_ended": "{done} of {total} sizes done · {elapsed} of training",
    "scaling.use_best": "Use its best model on every page",
    "scaling.size_name": "size {k} · {n}",
    "scaling.predict_title": "Predict, then see",
    "scaling.predict_caption": "Before a size finishes, type the validation loss you expect it to reach "
    "(look at the shipped sweep's line, and at the sizes already done). The answer appears when the size "
    "finishes; a prediction cannot be changed after that.",
    "scaling.predict_help": "Validation loss in nats per token (0 = no prediction).",
    "scaling.reached": "reached",
    "scaling.you_said": "you said {guess} ({off} off)",
    "scaling.hidden": "hidden until this size is trained",
    "scaling.figures_title": "Loss against parameters, tokens and compute",
    "scaling.shipped_caption": "The shipped sweep: trained on {date} on {cpu}, {wall} wall time ({cpu_time} "
    "of CPU; the machine's load average was {load}, so the wall time is mostly waiting). Its command:",
    "scaling.shipped_points": "shipped sweep",
    "scaling.fit_line": "fit E + A/N^α",
    "scaling.pure_fit_line": "fit A/x^α on the frontier",
    "scaling.band": "90 % band of the fit",
    "scaling.live_points": "your sweep",
    "scaling.predicted_points": "your predictions",
    "scaling.other_runs": "your Train-page runs",
    "scaling.frontier": "frontier (least loss so far)",
    "scaling.loss_axis": "validation loss (nats/token)",
    "scaling.axis_n": "parameters N",
    "scaling.axis_d": "tokens seen D",
    "scaling.axis_c": "training compute C (FLOPs)",
    "scaling.chart_n": "Loss against parameters, every size trained on {tokens} tokens",
    "scaling.chart_n_slide": "Loss against parameters N (TinyLM Lab)",
    "scaling.download_svg": "Figure for slides (SVG)",
    "scaling.chart_tokens": "Loss along training, against tokens",
    "scaling.chart_compute": "Loss along training, against compute",
    "scaling.points_title": "Every point as a table",
    "scaling.source.shipped": "shipped",
    "scaling.source.live": "yours",
    "scaling.col.sweep": "sweep",
    "scaling.col.size": "size",
    "scaling.col.parameters": "parameters N",
    "scaling.col.tokens": "tokens D",
    "scaling.col.flops": "compute C (FLOPs)",
    "scaling.col.tokens_per_parameter": "tokens per parameter",
    "scaling.col.loss": "validation loss",
    "scaling.col.seconds": "training seconds",
    "scaling.col.steps": "steps",
    "scaling.exponents_title": "The fitted exponents, and the published ones",
    "scaling.col.quantity": "exponent",
    "scaling.col.ours": "this toy ladder (± standard error)",
    "scaling.col.published": "published",
    "scaling.col.fit_error": "fit's error (relative rms)",
    "scaling.col.source": "source",
    "scaling.exp.alpha_n_floor": "α in L(N) = E + A/N^α (fixed D)",
    "scaling.exp.alpha_n_pure": "α_N in L(N) = A/N^α (no floor, Kaplan's form)",
    "scaling.exp.alpha_d_pure": "α_D in L(D) = A/D^α on the learning curves' frontier",
    "scaling.exp.alpha_c_pure": "α_C in L(C) = A/C^α on the compute frontier",
    "scaling.exp.surface_alpha": "α in L(N, D) = E + A/N^α + B/D^β",
    "scaling.exp.surface_beta": "β in L(N, D) = E + A/N^α + B/D^β",
    "scaling.exp.n_opt": "a in N_opt ∝ C^a (compute-optimal size)",
    "scaling.exponents_note": "How to read the comparison. Only the exponents compare, not E or A: the "
    "published fits come from models of 10⁶ to 10¹⁰ parameters reading web text cut into BPE tokens, ours "
    "from 10⁴ to 2·10⁶ parameters reading machine-made stories one character at a time. Ours are several "
    "times steeper, for reasons a toy ladder has. The stories come from a small grammar that a model of a "
    "few hundred thousand parameters can largely learn, so the loss is still falling fast and shows no floor "
    "yet (the fit puts E at {E}). The points do not lie on one straight line: the smallest sizes learn little "
    "more than which letters follow which, and each size after them gains more, so one exponent averages a "
    "bend. Every size reads the same {tokens} tokens, so the larger ones are under-trained (Kaplan's L(N) is "
    "for models trained to convergence). The frontiers of L(D) and L(C) are read off the learning curves of "
    "one cosine schedule per size (Kaplan's method, which Hoffmann et al. criticised), over barely two "
    "decades. And five sizes, one seed and one learning-rate rule leave the exponents loose: the ± column "
    "and the fit's error say how loose.",
    "scaling.optimal_title": "The compute-optimal trade-off",
    "scaling.optimal_intro": "For a fixed compute budget C ≈ 6·N·D you can train a small model on many "
    "tokens or a large one on few. Each line is one budget: the ladder's sizes, each trained for exactly "
    "that many FLOPs. Hoffmann et al. (2022, Chinchilla) found that the best size grows like √C, with "
    "about 20 training tokens per parameter; the dotted lines mark the size that rule picks.",
    "scaling.chart_optimal": "Same compute, different sizes: which one wins?",
    "scaling.winner": "the winner of a budget",
    "scaling.rule_of_thumb": "20 tokens per parameter",
    "scaling.col.budget": "budget C (FLOPs)",
    "scaling.col.winner": "best size on the ladder",
    "scaling.col.winner_ratio": "its tokens per parameter",
    "scaling.col.parabola": "least loss (parabola in log N)",
    "scaling.col.parabola_ratio": "tokens per parameter there",
    "scaling.col.chinchilla_n": "N by 20 tokens per parameter",
    "scaling.optimal_note": "Compared honestly: where each budget's loss is least, our tiny models want "
    "{ratios} tokens per parameter, not Chinchilla's 20 — the smallest sizes win the small budgets, and the "
    "best size grows only slowly with the budget (the table). A toy ladder differs for reasons of its own: "
    "the batch is fixed at {batch_tokens} tokens, so a large model on a small budget gets only tens of "
    "optimizer steps and barely starts to learn (Chinchilla's models took thousands of steps on batches of "
    "millions of tokens); the stories are simple enough that a small model keeps improving on more data; "
    "and at a context of 64, attention and the output layer are a large share of a tiny model's FLOPs. "
    "The loss surface L(N, D) fitted to all {points} points gives N_opt ∝ C^{exponent} (Chinchilla: 0.50, "
    "Kaplan: 0.73), but it fits them badly (a relative error of {error}): under-trained large models are "
    "not what its form describes. Note also that Chinchilla's own parametric fit, with its published "
    "constants, puts the optimum for Chinchilla's budget at {n_opt} parameters and {d_opt} tokens ({ratio} "
    "tokens per parameter): the rule of thumb of 20 comes from their Approaches 1 and 2, and Besiroglu et "
    "al. (2024) traced the difference to how the parametric fit was made.",
    "scaling.cost_title": "Compute and cost",
    "scaling.flops_intro": "Per token, the forward pass costs 2 FLOPs per weight of every matrix multiply "
    "(N of them) plus attention's two products with the T tokens of the context: 2·2·L·T·d. Training adds a "
    "backward pass that costs about twice the forward, so 6·N plus attention; generating one token with "
    "the KV cache is one forward pass over the t tokens so far. At this context (T = 64) and these widths "
    "attention is a sizeable share; for GPT-3 (T = 2048, d = 12288) it is about 3 %.",
    "scaling.flops_formula_note": "FLOPs per token: N weights in matrix multiplies, L layers, context T "
    "(t tokens so far when generating), width d.",
    "scaling.col.shape": "layers × d_model",
    "scaling.col.matmul": "matmul weights N",
    "scaling.col.train_flops": "training FLOPs per token",
    "scaling.col.attention_share": "of which attention",
    "scaling.col.generate_flops": "generating FLOPs per token (T = 64)",
    "scaling.server_peak": "this server's peak (one core)",
    "scaling.server_peak_help": "The best of many 512 × 512 fp32 matrix products with one thread, measured "
    "when the page first opened (tinylm.bench.matmul_peak).",
    "scaling.achieved": "achieved while training (shipped sweep)",
    "scaling.achieved_help": "The largest size of the shipped sweep: its training FLOPs divided by its "
    "training seconds (evaluations included), on a machine shared with other work.",
    "scaling.calculator_title": "What would it take? A calculator",
    "scaling.example.gpt3": "GPT-3 (175 B, 300 B tokens)",
    "scaling.example.chinchilla": "Chinchilla (70 B, 1.4 T tokens)",
    "scaling.example.ladder": "our largest size",
    "scaling.calc_n": "parameters N",
    "scaling.calc_d": "training tokens D",
    "scaling.gpu_tflops": "GPU peak (TFLOP/s)",
    "scaling.mfu": "utilisation of the peak (%)",
    "scaling.calc_flops": "compute C = 6·N·D (FLOPs)",
    "scaling.calc_here": "on this server (at its peak)",
    "scaling.calc_gpu": "on one GPU",
    "scaling.calc_note": "{pf_days} petaFLOP/s-days. The GPU: an NVIDIA A100 at 312 TFLOP/s (bf16, dense: "
    "NVIDIA's datasheet) and an assumed 40 % of it — large training runs report 20–50 % (Chowdhery et al. "
    "2022, PaLM). Both are inputs: change them. Real runs use thousands of GPUs at once: divide the time.",
    "scaling.model.gpt3": "GPT-3 175B",
    "scaling.model.chinchilla": "Chinchilla 70B",
    "scaling.col.model": "model",
    "scaling.col.published_flops": "published FLOPs",
    "scaling.col.six_nd": "6·N·D",
    "scaling.col.ratio": "6·N·D / published",
    "scaling.years": "{n} years",
    "scaling.days": "{n} days",
    "scaling.hours": "{n} h",
    "scaling.sources_title": "Sources",
    "scaling.sources_caption": "Every published number on this page, with where it comes from (the "
    "references are given in their original English).",
    "scaling.explanation": "**Kaplan et al. (2020)** fitted L(N) = (N_c/N)^α_N with α_N ≈ 0.076 and "
    "N_c ≈ 8.8·10¹³ (non-embedding parameters, models trained to convergence), L(D) with α_D ≈ 0.095, and "
    "L(C) on the compute-efficient frontier with α_C ≈ 0.050; their allocation grew N like C^0.73. "
    "**Hoffmann et al. (2022)** fitted L(N, D) = E + A/N^α + B/D^β with E = 1.69, A = 406.4, B = 410.7, "
    "α = 0.34, β = 0.28, and found N and D should grow equally with compute: about 20 tokens per "
    "parameter — Chinchilla (70 B parameters, 1.4 T tokens) beat the 280 B Gopher trained with the same "
    "compute. **Brown et al. (2020)** report 3.14·10²³ FLOPs for GPT-3 175B on 300 B tokens: 6·N·D gives "
    "3.15·10²³.\n\n"
    "**How this page fits.** For each exponent α the best E ≥ 0 and A ≥ 0 come from linear least squares; "
    "α is searched on a refined grid. The band is the linearised fit's: the parameters' covariance "
    "s²·(JᵀJ)⁻¹ carried to the curve, times Student's t for the points' degrees of freedom (five points "
    "and three parameters leave two, so the band is wide — as it should be). The frontiers take, along "
    "the learning curves of every size, the least loss reached with that many tokens or FLOPs.",
}

ZH = {
    "home.path.scaling": "为什么要“大”？在对数坐标上看损失如何随模型大小、数据量和算力变化，以及固定算力下哪个大小最好。",
    "error.bad_sweep_file": "无法读取随附的扫描结果文件（{detail}）。请运行 README 中的命令重新生成。",
    "error.sweep_failed": "扫描没有完成（{status}）。",
    "scaling.intro": "语言模型为什么要*大*？因为模型变大时，损失下降得出奇地有规律：在对数–对数坐标上，损失对"
    "参数量 **N**、训练词元数 **D** 和算力 **C** 的关系几乎是一条直线，最后弯向一个下限。下面是一组五个小 GPT"
    "（一万一千到两百万个参数）在英文故事上训练的结果，在玩具尺度上展示了同样的规律；你也可以训练自己的一组，"
    "并在每个点出现之前先预测它。",
    "scaling.formula_note": "E：这一类模型无论多大都降不下去的损失（文本本身的随机性，以及这种结构学不到的东西）；"
    "A 和 α：增加参数带来的好处有多快。C ≈ 6·N·D 是训练所需的浮点运算次数（前向时每个权重每个词元 2 次，"
    "反向传播约为前向的两倍）。",
    "scaling.your_title": "你的扫描",
    "scaling.your_caption": "在英文故事上训练同一组模型中最小的几个，它们在你的训练名额里依次训练：要么每个大小"
    "看同样多的词元，要么每个大小用同样多的算力。每训练完一个大小，它的点就会出现在下面的图里。",
    "scaling.mode": "每个大小得到",
    "scaling.mode.tokens": "相同的词元数",
    "scaling.mode.compute": "相同的算力",
    "scaling.sizes": "大小个数（从最小的开始）",
    "scaling.tokens": "每个大小的词元数",
    "scaling.flops": "每个大小的训练浮点运算数",
    "scaling.estimate": "在这台服务器上预计训练时间：{time}（其他同学同时训练时会更长）。",
    "scaling.start": "开始扫描",
    "scaling.your_sweep": "你的扫描",
    "scaling.preparing": "准备中：生成故事文本、构建分词器、规划每个大小……",
    "scaling.progress": "已完成 {done}/{total} 个大小 · 正在训练 {size} · 已训练 {elapsed}",
    "scaling.progress_ended": "已完成 {done}/{total} 个大小 · 共训练 {elapsed}",
    "scaling.use_best": "在所有页面使用其中最好的模型",
    "scaling.size_name": "第 {k} 个 · {n}",
    "scaling.predict_title": "先预测，再揭晓",
    "scaling.predict_caption": "在某个大小训练完之前，写下你认为它能达到的验证损失（参考随附扫描的拟合线，"
    "以及已经完成的大小）。它训练完后答案就会出现；之后预测就不能再改了。",
    "scaling.predict_help": "验证损失，单位是每个词元的奈特（0 表示不预测）。",
    "scaling.reached": "实际达到",
    "scaling.you_said": "你的预测 {guess}（相差 {off}）",
    "scaling.hidden": "这个大小训练完后揭晓",
    "scaling.figures_title": "损失与参数量、词元数和算力",
    "scaling.shipped_caption": "随附的扫描：{date} 在 {cpu} 上训练，实际耗时 {wall}（CPU 时间 {cpu_time}；"
    "当时机器的平均负载为 {load}，所以实际耗时大多是在等待）。生成它的命令：",
    "scaling.shipped_points": "随附扫描",
    "scaling.fit_line": "拟合 E + A/N^α",
    "scaling.pure_fit_line": "在前沿上拟合 A/x^α",
    "scaling.band": "拟合的 90% 区间",
    "scaling.live_points": "你的扫描",
    "scaling.predicted_points": "你的预测",
    "scaling.other_runs": "你在训练页的模型",
    "scaling.frontier": "前沿（到此为止的最低损失）",
    "scaling.loss_axis": "验证损失（奈特/词元）",
    "scaling.axis_n": "参数量 N",
    "scaling.axis_d": "已训练词元数 D",
    "scaling.axis_c": "训练算力 C（浮点运算次数）",
    "scaling.chart_n": "损失与参数量：每个大小都训练 {tokens} 个词元",
    "scaling.chart_n_slide": "损失与参数量 N（TinyLM Lab）",
    "scaling.download_svg": "下载幻灯片用图（SVG）",
    "scaling.chart_tokens": "训练过程中的损失与词元数",
    "scaling.chart_compute": "训练过程中的损失与算力",
    "scaling.points_title": "所有数据点（表格）",
    "scaling.source.shipped": "随附",
    "scaling.source.live": "你的",
    "scaling.col.sweep": "扫描",
    "scaling.col.size": "大小",
    "scaling.col.parameters": "参数量 N",
    "scaling.col.tokens": "词元数 D",
    "scaling.col.flops": "算力 C（浮点运算次数）",
    "scaling.col.tokens_per_parameter": "每个参数的词元数",
    "scaling.col.loss": "验证损失",
    "scaling.col.seconds": "训练秒数",
    "scaling.col.steps": "步数",
    "scaling.exponents_title": "拟合出的指数与已发表的指数",
    "scaling.col.quantity": "指数",
    "scaling.col.ours": "这组玩具模型（± 标准误差）",
    "scaling.col.published": "已发表",
    "scaling.col.fit_error": "拟合误差（相对均方根）",
    "scaling.col.source": "出处",
    "scaling.exp.alpha_n_floor": "L(N) = E + A/N^α 中的 α（固定 D）",
    "scaling.exp.alpha_n_pure": "L(N) = A/N^α 中的 α_N（没有下限，Kaplan 的形式）",
    "scaling.exp.alpha_d_pure": "在学习曲线前沿上拟合 L(D) = A/D^α 的 α_D",
    "scaling.exp.alpha_c_pure": "在算力前沿上拟合 L(C) = A/C^α 的 α_C",
    "scaling.exp.surface_alpha": "L(N, D) = E + A/N^α + B/D^β 中的 α",
    "scaling.exp.surface_beta": "L(N, D) = E + A/N^α + B/D^β 中的 β",
    "scaling.exp.n_opt": "N_opt ∝ C^a 中的 a（算力最优的大小）",
    "scaling.exponents_note": "如何看这个比较：只有指数可以比较，E 和 A 不行——已发表的拟合来自 10⁶ 到 10¹⁰ 个"
    "参数、阅读按 BPE 词元切分的网页文本的模型；我们的来自 10⁴ 到 2·10⁶ 个参数、逐字符阅读机器生成故事的模型。"
    "我们的指数陡好几倍，原因在于玩具规模本身：这些故事出自一套小语法，几十万参数的模型就能学会其中的大部分，"
    "所以损失仍在快速下降，还看不到下限（拟合给出 E = {E}）；这些点并不在一条直线上——最小的几个模型几乎只学到"
    "哪些字母常跟在哪些字母后面，之后每增大一级收获更多，所以一个指数只是把一条弯曲的线平均了；每个大小都只读"
    "同样的 {tokens} 个词元，较大的模型训练不足（Kaplan 的 L(N) 针对训练到收敛的模型）；L(D) 和 L(C) 的前沿取自"
    "每个大小一次余弦学习率训练的学习曲线（Kaplan 的做法，Hoffmann 等人对此提出过批评），范围也只有大约两个数量级。"
    "此外，只有五个大小、一个随机种子、共用一条学习率规则，指数并不确定：“±”一栏和拟合误差说明了有多不确定。",
    "scaling.optimal_title": "算力最优的取舍",
    "scaling.optimal_intro": "算力 C ≈ 6·N·D 固定时，可以让小模型看很多词元，也可以让大模型看很少的词元。每条线"
    "是一个算力预算：这组模型的每个大小都恰好用这么多浮点运算来训练。Hoffmann 等人（2022，Chinchilla）发现"
    "最优大小随 √C 增长，大约每个参数 20 个训练词元；虚线标出了这条经验法则选出的大小。",
    "scaling.chart_optimal": "同样的算力、不同的大小：谁最好？",
    "scaling.winner": "每个预算中的最优者",
    "scaling.rule_of_thumb": "每个参数 20 个词元",
    "scaling.col.budget": "预算 C（浮点运算次数）",
    "scaling.col.winner": "这组模型里最好的大小",
    "scaling.col.winner_ratio": "它每个参数的词元数",
    "scaling.col.parabola": "最低损失处（对 log N 拟合抛物线）",
    "scaling.col.parabola_ratio": "那里每个参数的词元数",
    "scaling.col.chinchilla_n": "按每参数 20 词元得到的 N",
    "scaling.optimal_note": "老实地比较：在每个预算损失最低的地方，我们的小模型需要每个参数 {ratios} 个词元，"
    "而不是 Chinchilla 的 20——小预算下最小的模型获胜，最优大小随预算增长得很慢（见上表）。玩具规模有它自己的原因："
    "批量固定为 {batch_tokens} 个词元，大模型在小预算下只能走几十步优化，几乎还没开始学（Chinchilla 的模型要走"
    "几千步，每批数百万个词元）；这些故事足够简单，小模型看更多数据还能继续进步；在上下文长度 64 下，注意力和"
    "输出层占了小模型浮点运算的很大一部分。对全部 {points} 个点拟合的损失曲面 L(N, D) 给出 N_opt ∝ C^{exponent}"
    "（Chinchilla：0.50，Kaplan：0.73），但拟合得很差（相对误差 {error}）：训练不足的大模型不符合它的形式。另外"
    "要注意：Chinchilla 自己的参数化拟合若使用论文中发表的常数，会把 Chinchilla 那个预算下的最优点放在 {n_opt} 个"
    "参数、{d_opt} 个词元（每个参数 {ratio} 个词元）：“20”这条经验法则来自他们的方法一和方法二，Besiroglu 等人"
    "（2024）找到了这一差异的来源——那个参数化拟合的做法。",
    "scaling.cost_title": "算力与成本",
    "scaling.flops_intro": "每个词元的前向计算：每个矩阵乘法中的每个权重（共 N 个）做 2 次浮点运算，再加上注意力"
    "与上下文中 T 个词元的两次乘积：2·2·L·T·d。训练还要做反向传播，代价约为前向的两倍，所以是 6·N 加上注意力；"
    "用 KV 缓存生成一个词元，就是对已有的 t 个词元做一次前向。在这个上下文长度（T = 64）和这些宽度下，注意力"
    "占了不小的比例；对 GPT-3（T = 2048，d = 12288）只有约 3%。",
    "scaling.flops_formula_note": "每个词元的浮点运算次数：N 为矩阵乘法中的权重数，L 为层数，T 为上下文长度"
    "（生成时 t 为已有词元数），d 为宽度。",
    "scaling.col.shape": "层数 × d_model",
    "scaling.col.matmul": "矩阵乘法权重 N",
    "scaling.col.train_flops": "每词元训练浮点运算",
    "scaling.col.attention_share": "其中注意力占比",
    "scaling.col.generate_flops": "每词元生成浮点运算（T = 64）",
    "scaling.server_peak": "这台服务器的峰值（单核）",
    "scaling.server_peak_help": "单线程反复计算 512 × 512 的 fp32 矩阵乘法取最好成绩，在本页第一次打开时测得"
    "（tinylm.bench.matmul_peak）。",
    "scaling.achieved": "训练时实际达到（随附扫描）",
    "scaling.achieved_help": "随附扫描中最大的那个模型：训练浮点运算数除以训练秒数（含评估），机器当时还在做"
    "其他工作。",
    "scaling.calculator_title": "需要多少？一个计算器",
    "scaling.example.gpt3": "GPT-3（1750 亿参数，3000 亿词元）",
    "scaling.example.chinchilla": "Chinchilla（700 亿参数，1.4 万亿词元）",
    "scaling.example.ladder": "我们最大的模型",
    "scaling.calc_n": "参数量 N",
    "scaling.calc_d": "训练词元数 D",
    "scaling.gpu_tflops": "GPU 峰值（TFLOP/s）",
    "scaling.mfu": "峰值利用率（%）",
    "scaling.calc_flops": "算力 C = 6·N·D（浮点运算次数）",
    "scaling.calc_here": "在这台服务器上（按峰值）",
    "scaling.calc_gpu": "在一块 GPU 上",
    "scaling.calc_note": "相当于 {pf_days} 个 petaFLOP/s·天。GPU 假设为 NVIDIA A100：312 TFLOP/s（bf16 稠密，"
    "见 NVIDIA 数据手册），并假设能用到其中 40%——大规模训练报告的利用率在 20%–50% 之间（Chowdhery 等人 2022，"
    "PaLM）。两者都是输入，可以修改。真实训练会同时使用成千上万块 GPU：时间要相应除掉。",
    "scaling.model.gpt3": "GPT-3 175B",
    "scaling.model.chinchilla": "Chinchilla 70B",
    "scaling.col.model": "模型",
    "scaling.col.published_flops": "已发表的浮点运算数",
    "scaling.col.six_nd": "6·N·D",
    "scaling.col.ratio": "6·N·D / 已发表",
    "scaling.years": "{n} 年",
    "scaling.days": "{n} 天",
    "scaling.hours": "{n} 小时",
    "scaling.sources_title": "出处",
    "scaling.sources_caption": "本页所有已发表的数字及其来源（文献保留英文原文）。",
    "scaling.explanation": "**Kaplan 等人（2020）**拟合了 L(N) = (N_c/N)^α_N，α_N ≈ 0.076、N_c ≈ 8.8·10¹³"
    "（不含嵌入层的参数、训练到收敛的模型），L(D) 的 α_D ≈ 0.095，以及在算力效率前沿上 L(C) 的 α_C ≈ 0.050；"
    "按他们的分配方式，N 随 C^0.73 增长。**Hoffmann 等人（2022）**拟合了 L(N, D) = E + A/N^α + B/D^β，"
    "E = 1.69、A = 406.4、B = 410.7、α = 0.34、β = 0.28，并发现 N 和 D 应随算力同步增长：每个参数大约 20 个"
    "词元——用同样的算力，Chinchilla（700 亿参数、1.4 万亿词元）胜过了 2800 亿参数的 Gopher。"
    "**Brown 等人（2020）**报告 GPT-3 175B 在 3000 亿词元上训练用了 3.14·10²³ 次浮点运算：6·N·D 给出 "
    "3.15·10²³。\n\n"
    "**本页如何拟合。**对每个指数 α，最优的 E ≥ 0 和 A ≥ 0 由线性最小二乘求出；α 在逐步加密的网格上搜索。"
    "区间来自线性化的拟合：参数的协方差 s²·(JᵀJ)⁻¹ 传递到曲线上，再乘以按自由度取的 Student t 值（五个点、"
    "三个参数只剩两个自由度，所以区间很宽——这是应该的）。前沿是沿着每个大小的学习曲线，取用这么多词元或"
    "浮点运算所达到的最低损失。",
}
