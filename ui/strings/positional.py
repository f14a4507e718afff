"""Strings of page 2 · Positional encoding."""

EN = {
    "positional.intro": "Attention on its own does not know the order of the tokens: shuffle them and "
    "every output is just shuffled the same way. So the position p of each token is written into its "
    "vector. The original Transformer (Vaswani et al. 2017) adds a fixed table PE to the token "
    "embeddings: dimension 2i holds a sine and dimension 2i+1 a cosine of the same angle p / base^(2i/d). "
    "Each pair turns at its own speed, fast for the first dimensions and very slowly for the last ones.",
    "positional.d_model": "d_model (numbers per position)",
    "positional.d_model_help": "The width of the vectors. Always even: the dimensions come in sine/cosine "
    "pairs.",
    "positional.max_len": "Number of positions",
    "positional.base": "Base (10000 in the paper)",
    "positional.base_help": "The pair i turns by 1 / base^(2i/d) radians per position. A smaller base "
    "makes the slow dimensions turn faster.",
    "positional.dims": "Dimensions to draw",
    "positional.start": "Start position p (for the distance curve)",
    "positional.pair": "Pair i (for the circle)",
    "positional.pair_help": "Dimensions 2i and 2i+1 together: a point on a circle.",
    "positional.rope_token": "Token whose query and key are rotated (RoPE view)",
    "positional.dim_label": "dim {dim} · {fn} (i = {i})",
    "positional.curves_title": "Each dimension is a wave over the positions",
    "positional.curves_explanation": "Pair 0 repeats every {fast} positions; the last pair only every "
    "{slow} positions (base {base}). Together the pairs act like the hands of a clock, from seconds to "
    "years: no two positions get the same vector, and nearby positions get similar ones.",
    "positional.dimension": "dimension",
    "positional.table_title": "The whole table: position × dimension",
    "positional.table_plot_title": "PE for {n} positions × {d} dimensions",
    "positional.slide_title": "Positional encoding: first {rows} positions × first {cols} dimensions",
    "positional.table_explanation": "Each row is the vector added to the token embedding at that "
    "position. The left columns (fast pairs) change from row to row; the right columns (slow pairs) "
    "barely change over a short text, so they hardly tell the positions apart.",
    "positional.similarity_title": "Dot products between positions: relative distance",
    "positional.similarity_plot_title": "PE(p) · PE(q) for every pair of positions",
    "positional.offset_measured": "PE(p)·PE(p+k) from the table, p = {p}",
    "positional.offset_formula": "Σ cos(k·ω_i) (the same for every p)",
    "positional.offset_k": "distance k",
    "positional.offset_plot_title": "Similarity as a function of the distance k",
    "positional.similarity_explanation": "On the diagonal every pair contributes sin² + cos² = 1, so "
    "PE(p)·PE(p) = d/2 = {half}. Away from it the value only depends on the distance |p − q|: the heatmap "
    "has stripes parallel to the diagonal, and the curve measured from any start position p lies exactly "
    "on the formula Σ cos(k·ω_i). The reason: moving k positions on turns every pair by the angle k·ω_i, "
    "a rotation that is the same wherever you start. So a layer that compares two positions with a dot "
    "product (as attention does) can read their relative distance.",
    "positional.circle_title": "Pair {i}: dimensions {a} and {b} for every position",
    "positional.circle_explanation": "Dimensions 2i and 2i+1 of PE(p) are (sin pω, cos pω), a point on "
    "the unit circle. Here i = {i}, ω = {omega} radians per position: one full turn every {turn} "
    "positions. Going from p to p + k is the same rotation by k·ω for every p, the matrix below.",
    "positional.model_title": "What the active model uses: {pos} positions",
    "positional.model_sinusoidal": "This model adds exactly this formula to its token embeddings, with "
    "d_model = {d}, base 10000 and positions 0 … {context} − 1. Its table is computed, not learned (and "
    "not stored in the checkpoint): the largest difference between the model's table and the formula is "
    "{diff}.",
    "positional.model_formula_title": "The formula (d_model and context of this model)",
    "positional.model_table_title": "The table inside the model",
    "positional.model_learned": "This model learned its own table: {context} positions × {d} numbers, "
    "trained like every other weight (as in GPT-2). Nothing forces it to look like sines and cosines.",
    "positional.learned_table_title": "The learned position table",
    "positional.learned_similarity_title": "Cosine similarity between learned positions",
    "positional.learned_explanation": "Learned rows have different lengths, so the similarity on the "
    "right is the cosine (1 on the diagonal). After enough training, neighbouring positions often end up "
    "similar, a band along the diagonal, like the sinusoidal table's stripes; positions the model rarely "
    "needed stay close to their random start.",
    "positional.model_rope": "This model uses RoPE (rotary position embedding): nothing is added to the "
    "token embeddings. Instead every head rotates its query and key, pair of numbers by pair of numbers "
    "(d_k = {dk}, base {base}), by an angle proportional to the position. Below: the first layer's first "
    "head, for one token placed at every position.",
    "positional.rope_vector": "{name} turned by p·θ",
    "positional.rope_rotation_title": "Pair {i} of q and k at each position (θ = {theta})",
    "positional.rope_scores_title": "score(p, j) = (R_p q)·(R_j k) / √d_k",
    "positional.rope_explanation": "A rotation keeps lengths and R_pᵀ R_j = R_(j−p), so the score of "
    "query position p with key position j depends only on the distance p − j: the heatmap is constant "
    "along every diagonal (largest difference along a diagonal: {spread}). In the model the causal mask "
    "then hides j > p.",
    "positional.model_none": "This model uses no positional information at all. Attention then sees the "
    "earlier tokens as an unordered set. Only the causal mask gives it a hint of order: a token at "
    "position p can see p + 1 tokens, so it can in principle count how far along it is.",
}

ZH = {
    "positional.intro": "注意力本身并不知道词元的顺序：把词元打乱，每个输出也只是跟着同样打乱。"
    "所以要把每个词元的位置 p 写进它的向量里。原始 Transformer（Vaswani 等，2017）"
    "给词元嵌入加上一张固定的表 PE：第 2i 维是角度 p / base^(2i/d) 的正弦，第 2i+1 维是同一角度的余弦。"
    "每一对维度以自己的速度转动：前面的维度转得快，后面的维度转得非常慢。",
    "positional.d_model": "d_model（每个位置的数字个数）",
    "positional.d_model_help": "向量的宽度。总是偶数：维度按“正弦/余弦”成对出现。",
    "positional.max_len": "位置个数",
    "positional.base": "底数 base（论文中为 10000）",
    "positional.base_help": "第 i 对维度每前进一个位置转动 1 / base^(2i/d) 弧度。base 越小，"
    "慢速维度转得越快。",
    "positional.dims": "要画的维度",
    "positional.start": "起始位置 p（用于距离曲线）",
    "positional.pair": "第 i 对维度（用于圆周图）",
    "positional.pair_help": "第 2i 维和第 2i+1 维合在一起：圆上的一个点。",
    "positional.rope_token": "旋转哪个词元的查询和键（RoPE 视图）",
    "positional.dim_label": "第 {dim} 维 · {fn}（i = {i}）",
    "positional.curves_title": "每个维度都是随位置变化的波",
    "positional.curves_explanation": "第 0 对维度每 {fast} 个位置重复一次；最后一对要 {slow} "
    "个位置才重复一次（base = {base}）。这些维度合起来就像钟表的指针，从秒针到“年针”："
    "任何两个位置的向量都不相同，而相邻位置的向量彼此相似。",
    "positional.dimension": "维度",
    "positional.table_title": "整张表：位置 × 维度",
    "positional.table_plot_title": "PE：{n} 个位置 × {d} 个维度",
    "positional.slide_title": "位置编码：前 {rows} 个位置 × 前 {cols} 个维度",
    "positional.table_explanation": "每一行就是在该位置加到词元嵌入上的向量。左边的列（快速维度）"
    "逐行变化；右边的列（慢速维度）在一段短文本中几乎不变，所以几乎区分不了位置。",
    "positional.similarity_title": "位置之间的点积：相对距离",
    "positional.similarity_plot_title": "任意两个位置的 PE(p) · PE(q)",
    "positional.offset_measured": "由表算出的 PE(p)·PE(p+k)，p = {p}",
    "positional.offset_formula": "Σ cos(k·ω_i)（对任何 p 都相同）",
    "positional.offset_k": "距离 k",
    "positional.offset_plot_title": "相似度随距离 k 的变化",
    "positional.similarity_explanation": "对角线上每一对维度贡献 sin² + cos² = 1，所以 PE(p)·PE(p) = d/2 "
    "= {half}。离开对角线后，数值只取决于距离 |p − q|：热力图上是与对角线平行的条纹，而从任何起始位置 p "
    "测得的曲线都与公式 Σ cos(k·ω_i) 完全重合。原因是：向前移动 k 个位置，相当于把每一对维度转过 k·ω_i "
    "的角度，不管从哪里出发，这个旋转都一样。所以用点积比较两个位置的层（注意力正是这样做的）"
    "就能读出它们的相对距离。",
    "positional.circle_title": "第 {i} 对：每个位置的第 {a} 维和第 {b} 维",
    "positional.circle_explanation": "PE(p) 的第 2i 维和第 2i+1 维是 (sin pω, cos pω)，"
    "即单位圆上的一个点。这里 i = {i}，ω = {omega}（每个位置转过的弧度）：每 {turn} 个位置转满一圈。从 p "
    "走到 p + k，对任何 p 都是同一个转过 k·ω 的旋转，见下面的矩阵。",
    "positional.model_title": "当前模型使用的是：{pos}位置编码",
    "positional.model_sinusoidal": "这个模型正是把这个公式加到词元嵌入上，其中 d_model = {d}，base = "
    "10000，位置为 0 … {context} − 1。它的表是算出来的，不是学出来的（也不存储在检查点里）："
    "模型内部的表与公式的最大差值为 {diff}。",
    "positional.model_formula_title": "公式（用本模型的 d_model 和上下文长度）",
    "positional.model_table_title": "模型内部的表",
    "positional.model_learned": "这个模型学习了自己的位置表：{context} 个位置 × {d} 个数，"
    "和其他权重一样通过训练得到（与 GPT-2 相同）。没有任何约束要求它长得像正弦和余弦。",
    "positional.learned_table_title": "学到的位置表",
    "positional.learned_similarity_title": "学到的位置之间的余弦相似度",
    "positional.learned_explanation": "学到的各行长度不同，所以右图用的是余弦相似度（对角线为 1）。"
    "训练充分后，相邻位置往往变得相似，沿对角线形成一条带，类似正弦表的条纹；"
    "模型很少用到的位置则基本停留在随机初始值附近。",
    "positional.model_rope": "这个模型使用 RoPE（旋转位置编码）：词元嵌入上什么也不加。"
    "而是每个注意力头把自己的查询和键按“两个数一组”旋转（d_k = {dk}，base = {base}），"
    "旋转角度与位置成正比。下面是第一层第一个头：把同一个词元放在每一个位置上。",
    "positional.rope_vector": "{name} 转过 p·θ",
    "positional.rope_rotation_title": "q 和 k 的第 {i} 对在各位置的样子（θ = {theta}）",
    "positional.rope_scores_title": "score(p, j) = (R_p q)·(R_j k) / √d_k",
    "positional.rope_explanation": "旋转不改变长度，并且 R_pᵀ R_j = R_(j−p)，所以查询位置 p 与键位置 j "
    "的得分只取决于距离 p − j：热力图沿每条对角线都是常数（对角线上的最大差值：{spread}）。在模型中，"
    "因果掩码随后会遮住 j > p 的部分。",
    "positional.model_none": "这个模型完全不使用位置信息。注意力因此把前面的词元看成一个无序的集合。"
    "只有因果掩码提供了一点顺序线索：位置 p 的词元能看到 p + 1 个词元，所以原则上它能数出自己排在第几。",
}
