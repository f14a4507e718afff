"""Home page strings."""

EN = {
    "home.intro": "TinyLM Lab is a small, real GPT-style Transformer that runs in your browser's server. "
    "Every number on these pages comes from an actual model: you can look inside it, make it write, "
    "and train your own in about a minute.",
    "home.path_title": "The learning path",
    "home.path.tokens": "How text becomes numbers: tokens, ids and embedding vectors.",
    "home.path.positional": "How the model knows word order: sinusoidal, learned and rotary positions.",
    "home.path.attention": "softmax(QKᵀ/√d_k)·V computed by hand on your own sentence, then with several heads.",
    "home.path.block": "Residual stream, LayerNorm and the feed-forward network: what each sub-layer adds.",
    "home.path.explorer": "Every attention head of every layer on your prompt.",
    "home.path.generate": "Temperature, top-k and top-p: watch the next-token distribution at each step.",
    "home.path.train": "Train a Transformer live and watch the loss fall and attention patterns form.",
    "home.model_title": "The model in use",
    "home.model_hint": "Choose another model in the sidebar, or train your own on the Train page.",
    "home.gpt_note": "GPT-style means *causal*: the model only ever predicts the next token from the ones "
    "before it (a mask hides the future). It is not a masked language model like BERT.",
}

ZH = {
    "home.intro": "TinyLM Lab 是一个真实运行的小型 GPT 式 Transformer。本站每个数字都来自一个真正的模型："
    "你可以看它的内部、让它写字，还可以在大约一分钟内训练一个属于你自己的模型。",
    "home.path_title": "学习路线",
    "home.path.tokens": "文本如何变成数字：词元、编号和嵌入向量。",
    "home.path.positional": "模型如何知道词序：正弦位置编码、可学习位置编码和旋转位置编码。",
    "home.path.attention": "在你自己的句子上手算 softmax(QKᵀ/√d_k)·V，再看多头注意力。",
    "home.path.block": "残差流、层归一化（LayerNorm）和前馈网络：每个子层各加了什么。",
    "home.path.explorer": "在你的提示词上查看每一层、每一个注意力头。",
    "home.path.generate": "温度、top-k 与 top-p：逐步观察下一个词元的概率分布。",
    "home.path.train": "现场训练一个 Transformer，看损失下降、注意力模式逐渐形成。",
    "home.model_title": "正在使用的模型",
    "home.model_hint": "可在侧边栏换一个模型，或在“训练”页训练你自己的模型。",
    "home.gpt_note": "GPT 式模型是**因果**（自回归）模型：它只根据前面的词元预测下一个词元（用掩码遮住未来），"
    "而不是像 BERT 那样的掩码语言模型。",
}
