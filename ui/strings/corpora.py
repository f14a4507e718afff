"""Titles and descriptions of the built-in corpora (tinylm.corpora), shown on the Train page."""

EN = {
    "corpus.stories-en.title": "Little stories (English)",
    "corpus.stories-en.description": "Short, simple English stories made up by a program: children like Lily and Tom play, share, help friends and find lost toys. A small vocabulary and recurring names, so a tiny model learns to write word-like, story-like text in a minute.",
    "corpus.stories-zh.title": "Little stories (Chinese)",
    "corpus.stories-zh.description": "Short, simple Chinese children's stories made up by a program: 小明, 小红 and their friends go to the park, help each other and share. A few hundred different characters, so a tiny character-level model can learn it quickly.",
    "corpus.copy.title": "Task: copy",
    "corpus.copy.description": 'Each line asks the model to copy 3-8 letters (a-j): "copy gbdae=gbdae". The model sees everything up to "=" and must write the letters again.',
    "corpus.reverse.title": "Task: reverse",
    "corpus.reverse.description": 'Each line asks the model to write 3-8 letters (a-j) backwards: "reverse gbdae=eadbg".',
    "corpus.sort.title": "Task: sort",
    "corpus.sort.description": 'Each line asks the model to put 3-8 letters (a-j) in alphabetical order: "sort gbdae=abdeg".',
    "corpus.add.title": "Task: addition",
    "corpus.repeats.title": "Repeated letters (induction)",
    "corpus.repeats.description": 'Runs of 8-26 random letters, each written twice in a row ("qmzkrtbxqmzkrtbx"), and two-letter alternations ("cvcvcvcv"). The first copy of a run cannot be predicted; the second can, by looking back at what followed the same letter last time. A two-layer model suddenly learns this copying trick (an induction head); a one-layer model never does.',
    "corpus.add.description": 'Each line adds two numbers from 0 to 99, written with a fixed number of digits: "add 58+06=064" means 58 + 6 = 64. Harder than it looks for a model that writes left to right: the first digits of the sum depend on the carry from the ones digits. Expect it to need longer training than copy or sort.',
}

ZH = {
    "corpus.stories-en.title": "英文小故事",
    "corpus.stories-en.description": "由程序自动编写的简单英文小故事：Lily、Tom 等小朋友玩耍、分享、帮助朋友、寻找丢失的玩具。词汇量小，人名反复出现，小模型一分钟内就能学会写出像单词、像故事的文字。",
    "corpus.stories-zh.title": "中文小故事",
    "corpus.stories-zh.description": "由程序自动编写的简单中文儿童故事：小明、小红和朋友们去公园、互相帮助、分享东西。只用几百个不同的汉字，字符级小模型很快就能学会。",
    "corpus.copy.title": "任务：复制",
    "corpus.copy.description": '每行让模型复制 3-8 个字母（a-j）："copy gbdae=gbdae"。模型看到 "=" 之前的内容，要把这些字母原样再写一遍。',
    "corpus.reverse.title": "任务：倒序",
    "corpus.reverse.description": '每行让模型把 3-8 个字母（a-j）倒过来写："reverse gbdae=eadbg"。',
    "corpus.sort.title": "任务：排序",
    "corpus.sort.description": '每行让模型把 3-8 个字母（a-j）按字母表顺序排列："sort gbdae=abdeg"。',
    "corpus.add.title": "任务：加法",
    "corpus.repeats.title": "重复字母（归纳头）",
    "corpus.repeats.description": '由 8 到 26 个随机字母组成的片段，每段连续写两遍（"qmzkrtbxqmzkrtbx"），中间夹着两个字母的交替（"cvcvcvcv"）。每段的第一遍无法预测；第二遍可以：回头看上次同一个字母后面跟的是什么。两层模型会突然学会这种复制技巧（归纳头）；一层模型永远学不会。',
    "corpus.add.description": '每行把两个 0 到 99 之间的数相加，数字位数固定（不足的前面补 0）："add 58+06=064" 表示 58 + 6 = 64。对从左往右写的模型来说并不简单：和的前几位取决于个位有没有进位。它需要比复制、排序更长的训练时间。',
}
