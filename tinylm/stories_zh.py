"""The ``stories-zh`` grammar: little Simplified Chinese children's stories (儿童故事).

小明, 小红, 咪咪 ..., full-width punctuation (，。！？：“”) and the right measure words (一只猫, 一本书,
两个苹果). A story is one of the templates below (the template language is in ``tinylm.stories``), told
about a child ``{N}`` (``{ta}``: 他 or 她) with a friend ``{F}`` (the two of them: ``{men}``) and a
grown-up ``{P}``.
"""

from __future__ import annotations

import random

from tinylm.stories import Let, Maybe, OneOf, Pick, Sample, Set, Some, Template, story_sentences

GIRLS = ("小红", "小丽", "小美", "小芳", "小兰")
BOYS = ("小明", "小华", "小刚", "小东", "小亮")
_GROWNUPS = ("妈妈", "爸爸", "奶奶", "爷爷")
# things a child takes to school, and toys (a dog can carry a toy in its mouth)
_SCHOOL_THINGS = ("铅笔", "帽子", "故事书", "水杯", "雨伞")
_TOYS = ("皮球", "玩具熊", "小汽车")
# (thing, its measure word)
_FOODS = (("苹果", "个"), ("橘子", "个"), ("香蕉", "根"), ("饼干", "块"), ("糖", "颗"), ("草莓", "颗"))
_GIFTS = (("故事书", "本"), ("皮球", "个"), ("玩具熊", "只"), ("小汽车", "辆"), ("布娃娃", "个"))
_NUMBERS = ("两", "三", "四", "五")  # 两个苹果, never 二个苹果
_PLACES = ("书包里", "桌子底下", "床底下", "门后面", "柜子里", "沙发底下")
_COLORS = ("红色", "黄色", "白色", "紫色", "粉色")
# (animal, its name, how it looks, what it likes best: one or more choices)
_PETS = (
    ("小猫", "咪咪", "的毛白白的，眼睛圆圆的，可爱极了。", ("最喜欢吃鱼。", "最喜欢在太阳下睡觉。")),
    ("小狗", "旺旺", "的耳朵大大的，尾巴短短的。", ("最喜欢跟着{N}跑来跑去。", "最喜欢玩皮球。")),
    ("小白兔", "白白", "的耳朵长长的，眼睛红红的。", ("最喜欢吃青菜和胡萝卜。",)),
)

_PARK_PLAY = (
    "{N}先去荡秋千，秋千荡得高高的。",
    "{ta}在草地上跑来跑去。",
    "{ta}从滑梯上滑下来，开心得哈哈大笑。",
    "{ta}和{P}一起在湖边喂小鸭子。",
)
_PARK = (
    Pick("星期天，天气很好。", "今天是星期六，阳光暖暖的。", "春天到了，公园里的花都开了。"),
    "{N}和{P}一起去公园玩。",
    Maybe(
        0.5,  # a friend to play with (and one thing done before), or a dog (and one or two)
        Some(1, 1, _PARK_PLAY),
        "在公园里，{N}遇到了好朋友{F}。",
        Pick("{F}说：“我们一起玩捉迷藏吧！”", "{F}问：“我们一起玩，好吗？”"),
        "{N}说：“好啊！”",
        "{men}一起玩了很久，玩得可开心了。",
        no=(
            Some(1, 2, _PARK_PLAY),
            "草地上有一只小狗，正在追一个皮球。",
            "{N}把皮球扔得远远的，小狗马上跑过去，把球叼了回来。",
            Maybe(0.5, "小狗摇着尾巴，好像在说：“谢谢你！”"),
        ),
    ),
    Pick(
        "太阳快下山了，{N}和{P}高高兴兴地回家了。",
        "{N}说：“今天玩得真开心！”",
        "回家的路上，{N}说：“{P}，我们明天还来，好吗？”",
    ),
)

_HELP = (
    OneOf(
        (
            "{N}在公园里看见{F}站在一棵大树下，急得快哭了。",
            "{N}走过去问：“你怎么了？”",
            "{F}说：“我的风筝挂在树上了，拿不下来。”",
            "{N}找来一根长长的竹竿，轻轻地把风筝拨了下来。",
        ),
        (
            "下课的时候，{N}看见{F}坐在座位上，一直皱着眉头。",
            "{N}走过去问：“你怎么了？”",
            "{F}说：“这道题我不会做。”",
            "{N}坐下来，耐心地给{F}讲了一遍。",
            "{F}一下子就明白了。",
        ),
        (
            "放学的路上，{N}看见{F}提着一个大袋子，走得很慢。",
            "{N}问：“要我帮忙吗？”",
            "{F}说：“这袋苹果太重了，我拿不动。”",
            "两个人一人提一边，很快就把苹果送回了家。",
        ),
        (
            "{N}和{F}在操场上跑步。",
            "{F}跑得太快，不小心摔倒了。",
            "{N}赶紧跑过去，把{F}扶了起来。",
            "{N}问：“你疼不疼？”",
            "{F}摇摇头说：“不疼了。”",
        ),
    ),
    "{F}高兴地说：“谢谢你，{N}！”",
    Maybe(0.4, "{N}笑着说：“不客气，我们是好朋友嘛！”"),
    Pick("{N}帮助了朋友，心里也很高兴。", "从那以后，{N}和{F}成了最好的朋友。"),
)

# _LOST: where the child looks, and the grown-up who knows where the thing is
_LOOKING = (
    Sample(("place1", "place2", "place3"), _PLACES),
    "{ta}在{place1}找了找，没有找到。",
    Maybe(0.6, "{ta}又到{place2}找了找，也没有找到。"),
    Maybe(0.5, "{N}急得团团转。"),
)
_FOUND_WITH_HELP = (
    "这时，{P}走过来说：“你去{place3}看看。”",
    "{N}跑过去一看，{thing}果然在那里！",
    "{N}高兴地说：“谢谢{P}！”",
    Maybe(0.5, Pick("从那以后，{N}每天都把自己的东西放好。", "{N}说：“以后我一定把东西放好。”")),
)
_LOST = (
    Maybe(
        0.5,  # a toy (the dog may have it), or a thing for school
        Let("thing", _TOYS),
        "{N}想玩{thing}，可是怎么也找不到了。",
        *_LOOKING,
        Maybe(
            0.5,
            "这时，小狗旺旺叼着{N}的{thing}跑了过来。",
            "{N}笑着说：“原来是你拿走了呀！”",
            no=_FOUND_WITH_HELP,
        ),
        no=(
            Let("thing", _SCHOOL_THINGS),
            "早上，{N}准备去上学，可是怎么也找不到{ta}的{thing}了。",
            *_LOOKING,
            *_FOUND_WITH_HELP,
        ),
    ),
)

_RAIN = (
    "早上，{N}起床一看，外面下起了大雨。",
    "{ta}不能出去玩了，心里有点儿不高兴。",
    Maybe(
        0.5,
        "{P}说：“我们在家里画画吧。”",
        "{N}画了一个红红的太阳，还画了一朵漂亮的小花。",
        no=("{P}说：“我们一起看书吧。”", "{P}给{N}讲了一个有趣的故事。"),
    ),
    "过了一会儿，雨停了，太阳出来了。",
    Maybe(0.5, "天上还出现了一道彩虹。"),
    "{N}穿上雨鞋，高高兴兴地跑到外面去玩了。",
)

_SNOW = (
    "冬天到了，天上下起了大雪。",
    Maybe(0.5, "地上白白的，好像铺了一层厚厚的棉花。"),
    "{N}和{F}穿上厚厚的衣服，一起到外面堆雪人。",
    "{men}给雪人戴上了一顶红帽子，还用胡萝卜做了雪人的鼻子。",
    Maybe(0.5, "堆好了雪人，{men}又打起了雪仗。"),
    Pick("{N}看着雪人，开心地笑了。", "{N}说：“这是我们的雪人！”"),
)

_WIND = (
    "今天风很大，{N}和{P}一起去放风筝。",
    "风筝越飞越高，好像一只小鸟。",
    "{N}拉着线，大声地说：“{P}，快看，我的风筝飞得好高啊！”",
    Maybe(0.6, "{P}笑着说：“你真棒！”"),
    "{N}玩得可开心了。",
)

_SUMMER = (
    "夏天到了，天气很热。",
    "{P}给{N}买了一个冰淇淋。",
    "冰淇淋凉凉的，甜甜的，真好吃。",
    Maybe(0.6, "下午，{P}带{N}去游泳。", "{N}在水里游来游去，像一条小鱼。"),
    "{N}说：“夏天真好玩！”",
)


def _pet(pet: str, name: str, looks: str, likes: tuple[str, ...]) -> Template:
    """The pet story with one animal: how it looks and what it likes are its own."""
    return (
        Set(pet=pet, pet_name=name),
        "{N}家有一只{pet}，名字叫{pet_name}。",
        Maybe(0.6, "{pet_name}" + looks),
        Pick(*("{pet_name}" + like for like in likes)),
        "每天放学回家，{N}都要和{pet_name}玩一会儿。",
        Maybe(
            0.6,
            "有一天，{pet_name}不见了。",
            "{N}到处找，一边找一边喊：“{pet_name}，你在哪里？”",
            Let("hideout", ["沙发底下", "床底下", "花园里"]),
            "原来，{pet_name}躲在{hideout}睡着了。",
            "{N}把{pet_name}抱了起来，笑着说：“原来你在这里呀！”",
            no=(Pick("{N}说：“{pet_name}，你是我最好的朋友。”", "{N}非常喜欢{pet_name}。"),),
        ),
    )


_PET = (OneOf(*(_pet(*pet) for pet in _PETS)),)

_FARM = (
    "星期天，{N}跟着{P}去农场玩。",
    "农场里有很多动物，有牛，有羊，还有小鸡和小鸭。",
    Some(1, 3, ("牛在草地上吃草。", "小鸡在地上找虫子吃。", "小鸭在河里游来游去。", "小羊咩咩地叫着。")),
    Maybe(0.5, "{N}拿了一把青草喂小羊。"),
    "{N}说：“{P}，下次我还要来！”",
)

_VEGETABLES = (
    Let("meal", ["中午", "晚上"]),
    "{meal}，{P}做了很多好吃的菜。",
    "桌子上有鱼，有肉，还有青菜。",
    "{N}只吃肉，不爱吃青菜。",
    "{P}说：“多吃青菜，身体才会好。”",
    "{N}尝了一口青菜，说：“原来青菜这么好吃！”",
    OneOf((), ("从那以后，{N}再也不挑食了。",)),  # five or six sentences, each as likely
)

_DUMPLINGS = (
    Let("when", ["过年了，", "星期天，"]),
    "{when}{N}和{P}一起包饺子。",
    "{P}包的饺子又大又好看。",
    "{N}包的饺子有大有小，有一个还破了。",
    Maybe(0.6, "{P}笑着说：“第一次包饺子，已经很不错了！”"),
    "饺子煮好了，大家一起吃。",
    "{N}觉得，自己包的饺子最好吃。",
)

_SHARE = (
    Let(("food", "measure"), _FOODS),
    Let("num", _NUMBERS),
    "{N}带了{num}{measure}{food}去学校。",
    "下课的时候，{ta}看见{F}什么也没有带。",
    "{N}拿出一{measure}{food}，送给了{F}。",
    "{F}说：“谢谢你！”",
    Maybe(0.5, "{N}说：“不客气，好朋友要一起分享嘛。”"),
    Maybe(0.5, "{men}一边吃，一边说说笑笑。"),
    Pick("{N}觉得，和朋友一起分享，{food}变得更甜了。", "老师看见了，夸{N}是个好孩子。"),
)

_BIRTHDAY = (
    Let("age", ["五", "六", "七", "八"]),
    Let(("gift", "measure"), _GIFTS),
    "今天是{N}的生日，{ta}{age}岁了。",
    "{P}给{ta}买了一个大蛋糕。",
    Maybe(0.5, "蛋糕上插着{age}根蜡烛。"),
    "{N}闭上眼睛，许了一个愿，然后一口气吹灭了蜡烛。",
    Maybe(0.5, "大家一起唱：“祝你生日快乐！”"),
    "好朋友{F}送给{N}一{measure}{gift}。",
    Pick("这是{N}最快乐的一天。", "{N}说：“谢谢你，{F}！我很喜欢。”"),
)

_GARDEN = (
    Let("color", _COLORS),
    "春天到了，{N}和{P}在院子里种下了一些花的种子。",
    "每天，{N}都给种子浇水。",
    "过了几天，土里长出了小小的绿芽。",
    "又过了一些日子，小芽长高了，开出了一朵{color}的小花。",
    "{N}高兴地喊：“{P}，快来看，花开了！”",
    Maybe(0.6, "{P}笑着说：“你照顾得真好！”"),
)

_BEDTIME = (
    Let("hour", ["八", "九"]),
    Let("about", ["小兔子", "小熊", "小星星"]),
    "晚上{hour}点了，该睡觉了。",
    "{N}刷了牙，洗了脸，换上了睡衣。",
    "{P}坐在床边，给{ta}讲了一个{about}的故事。",
    "{N}听着听着，慢慢地闭上了眼睛。",
    Maybe(0.5, "{P}轻轻地说：“晚安，{N}。”"),
    Maybe(0.5, "那天晚上，{N}梦见自己变成了一只小鸟，在天上飞。"),
)

_SCHOOL = (
    "今天是{N}上学的第一天。",
    "{ta}心里有点儿紧张。",
    Maybe(0.5, "老师笑着说：“欢迎你，{N}！”"),
    "{N}的同桌是一个{fkid}，叫{F}。",
    "{F}对{N}说：“我们做好朋友吧！”",
    "下课的时候，{men}一起在操场上玩。",
    "放学回家，{N}高兴地对{P}说：“我有新朋友了！”",
)

TEMPLATES: tuple[Template, ...] = (
    _PARK,
    _HELP,
    _LOST,
    _RAIN,
    _SNOW,
    _WIND,
    _SUMMER,
    _PET,
    _FARM,
    _VEGETABLES,
    _DUMPLINGS,
    _SHARE,
    _BIRTHDAY,
    _GARDEN,
    _BEDTIME,
    _SCHOOL,
)


def story(rng: random.Random) -> list[str]:
    """One Chinese story as a list of sentences."""
    girl, friend_girl = rng.random() < 0.5, rng.random() < 0.5
    name = rng.choice(GIRLS if girl else BOYS)
    friend = rng.choice([f for f in (GIRLS if friend_girl else BOYS) if f != name])
    slots = {
        "N": name,
        "ta": "她" if girl else "他",
        "F": friend,
        "P": rng.choice(_GROWNUPS),
        "men": "她们" if girl and friend_girl else "他们",  # the two children together
        "fkid": "小女孩" if friend_girl else "小男孩",
    }
    return story_sentences(rng, TEMPLATES, slots)
