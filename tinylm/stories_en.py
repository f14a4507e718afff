"""The ``stories-en`` grammar: little English stories in the spirit of TinyStories.

A few hundred simple words, recurring names such as Lily and Tom, some dialogue in quotes, ASCII only.
A story is one of the templates below (the template language is in ``tinylm.stories``), told about a
child ``{N}`` with a friend ``{F}`` and a grown-up ``{P}``, with the pronouns that go with them.
"""

from __future__ import annotations

import random

from tinylm.stories import (
    MAX_SENTENCES,
    Let,
    Maybe,
    OneOf,
    Pick,
    Sample,
    Set,
    Some,
    Template,
    story_sentences,
)

GIRLS = ("Lily", "Mia", "Anna", "Lucy", "Emma", "Zoe", "Sara", "Ella")
BOYS = ("Tom", "Ben", "Sam", "Max", "Jack", "Leo", "Tim", "Finn")
_PRONOUNS = {
    "girl": {"he": "she", "He": "She", "him": "her", "his": "her", "His": "Her", "kid": "girl"},
    "boy": {"he": "he", "He": "He", "him": "him", "his": "his", "His": "His", "kid": "boy"},
}
# (word in a story, how a child calls them)
_GROWNUPS = (("mom", "Mom"), ("dad", "Dad"), ("grandma", "Grandma"), ("grandpa", "Grandpa"))
_COLORS = ("red", "blue", "green", "yellow", "orange", "pink", "purple")
_TOYS = ("ball", "kite", "teddy bear", "doll", "toy car", "toy boat", "robot", "drum")
# (singular, plural)
_FOODS = (
    ("apple", "apples"),
    ("cookie", "cookies"),
    ("banana", "bananas"),
    ("orange", "oranges"),
    ("sandwich", "sandwiches"),
    ("cherry", "cherries"),
    ("peach", "peaches"),
    ("strawberry", "strawberries"),
    ("muffin", "muffins"),
)
_NUMBERS = ("two", "three", "four", "five")
# (animal, the names a pet of that kind may have, what it liked to do)
_PETS = (
    ("dog", ("Spot", "Buddy", "Rex", "Coco"), "run and chase the ball"),
    ("cat", ("Kitty", "Coco", "Tiger", "Sunny"), "sleep in the warm sun"),
    ("rabbit", ("Snowy", "Hoppy", "Bun"), "eat carrots and hop on the grass"),
    ("bird", ("Kiwi", "Pip", "Sunny"), "sing little songs"),
)
_PET_LOOKS = ("little", "fluffy", "white", "brown", "black", "orange", "happy")
# (animal, what it does)
_FARM = (
    ("cow", 'The cow said, "Moo!"'),
    ("pig", "The pig rolled in the mud."),
    ("duck", 'The duck said, "Quack!"'),
    ("horse", "The horse ate some hay."),
    ("sheep", 'The sheep said, "Baa!"'),
    ("hen", "The hen sat on her eggs."),
    ("goat", "The goat jumped on a rock."),
)
_HIDING = (
    "under the bed",
    "in the toy box",
    "behind the door",
    "under the table",
    "in the garden",
    "behind the sofa",
    "in the kitchen",
    "under a chair",
)
_ONCE = "Once upon a time, there was a little {kid} named {N}."


def a(phrase: str) -> str:
    """Put "a" or "an" in front of a noun phrase (all our words follow the vowel-letter rule)."""
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


_PARK_PLAY = (
    "{He} played on the swings.",
    "{He} went down the big slide.",
    "{He} ran on the green grass.",
    "{He} played in the sand.",
    "{He} fed the ducks by the pond.",
)
_PARK = (
    Pick("It was a sunny day.", "The sun was shining.", "It was a warm spring morning."),
    "{N} and {his} {P} went to the park.",
    Maybe(
        0.5,  # a friend to play with (and one thing done before), or a dog (and one or two)
        Some(1, 1, _PARK_PLAY),
        "At the park, {N} saw {his} friend {F}.",
        Pick('"Do you want to play with me?" asked {N}.', '{N} said, "Let\'s play together!"'),
        Pick('"Yes!" said {F}.', '{F} smiled and said, "Okay!"'),
        Pick("They played until the sun went down.", "They had lots of fun together."),
        no=(
            Some(1, 2, _PARK_PLAY),
            "Then {N} saw a little dog with a long tail.",
            Pick("The dog wanted to play.", "The dog wagged its tail."),
            "{N} threw a stick, and the dog ran to get it.",
        ),
    ),
    Pick(
        "When it was time to go home, {N} was tired but happy.",
        "{N} had a great day at the park.",
        '"Can we come back tomorrow?" asked {N}.',
    ),
)

_LOST_TOY = (
    Sample(("spot1", "spot2", "spot3"), _HIDING),
    Pick("{N} had {a_toy}.", "{N} loved {his} {toy} very much."),
    Pick("One day, {N} could not find {his} {toy}.", "One morning, the {toy} was gone."),
    Maybe(
        0.5,
        "{He} looked {spot1}.",
        "Then {he} looked {spot2}.",
        no=("{He} looked {spot1}.", Pick("{N} felt sad.", "{N} was very sad.")),
    ),
    Maybe(
        0.5,
        "{His} friend {F} came to help.",
        '"Is it {spot3}?" asked {F}.',
        "{N} looked {spot3}, and there it was!",
        '"Thank you, {F}!" said {N}.',
        no=(
            Pick("{His} {P} came to help.", "Soon {his} {P} came to help."),
            '"Let\'s look {spot3}," said {his} {P}.',
            "The {toy} was {spot3}!",
            Pick("{N} was so happy.", "{N} held the {toy} tight and smiled."),
        ),
    ),
)

_SHARE = (
    Pick("{N} had {num} {foods}.", "{N} took {num} {foods} to school."),
    Pick("{He} saw {his} friend {F}.", "{F} sat next to {him}."),
    Pick("{F} did not have any {foods}.", "{F} had no {foods}."),
    Maybe(0.5, "{F} looked a little sad."),
    Pick('{N} said, "Would you like {a_food}?"', '"Here, you can have one," said {N}.'),
    Pick('"Thank you, {N}!" said {F}.', '{F} smiled and said, "Thank you!"'),
    Some(
        1,
        2,
        (
            "They ate the {foods} together.",
            Pick("Sharing made {N} feel happy.", "{N} felt warm inside.", "Sharing with a friend is fun."),
        ),
    ),
)

_HELP = (
    Pick("One day, {N} saw {F} sitting on a bench.", "On the way to school, {N} saw {F}."),
    Pick("{F} looked very sad.", "{F} was crying."),
    Pick('"What is wrong?" asked {N}.', '{N} asked, "Are you okay?"'),
    OneOf(
        (
            '"My kite is stuck in the tree," said {F}.',
            "{N} found a long stick.",
            "{He} pushed the kite, and it fell down.",
        ),
        ('"I dropped all my {foods}," said {F}.', "{N} helped {fhim} pick them up, one by one."),
        (
            '"My bag is too heavy," said {F}.',
            '"I can help you," said {N}.',
            "They carried the bag home together.",
        ),
    ),
    Pick('"Thank you for helping me," said {F}.', "{F} gave {N} a big hug."),
    Pick(
        "{N} was glad {he} could help.",
        "Helping a friend made {N} happy.",
        "From that day on, {N} and {F} were best friends.",
    ),
)

_RAIN = (
    Pick("One morning, {N} looked out of the window.", "{N} woke up and looked outside."),
    Pick("It was raining.", "Rain was falling on the roof."),
    "{N} wanted to play outside, but {he} had to stay in.",
    Some(
        1,
        2,
        (
            "{He} drew a picture of a big yellow sun.",
            "{He} built a tall tower with {his} blocks.",
            "{He} read a book with {his} {P}.",
        ),
    ),
    "Soon the rain stopped, and the sun came out.",
    Pick(
        "{N} put on {his} boots and jumped in the puddles.", "{N} ran outside and saw a rainbow in the sky."
    ),
    Maybe(0.4, Pick("{N} laughed and laughed.", '"This is fun!" said {N}.')),
)

_SNOW = (
    Pick("It was a cold winter day.", "It snowed all night."),
    "{N} put on {his} warm coat and {his} {color} hat.",
    "{He} went outside with {F}.",
    Pick("They made a big snowman.", "They made a snowman with a carrot nose."),
    Maybe(0.5, "{N} gave the snowman {his} old scarf."),
    Maybe(0.5, "Then they threw snowballs and laughed."),
    Pick("When they got cold, {N} and {F} went inside and had warm milk.", "{N} and {F} were very happy."),
)

_WIND = (
    Pick("It was a windy day.", "The wind was blowing hard."),
    "{N} and {his} {P} took {his} {color} kite to the hill.",
    "The wind blew, and the kite went up high.",
    Pick('"Look, it is flying!" shouted {N}.', '{N} said, "Look at my kite!"'),
    Maybe(0.5, "{He} held the string tight."),
    Pick("It was the best day ever.", "{N} did not want to go home."),
)

_BEACH = (
    Pick("It was a hot summer day.", "The sky was blue and the sun was hot."),
    "{N} went to the beach with {his} {P}.",
    Some(
        2,
        3,
        (
            "{He} built a big sand castle.",
            "{He} found a pretty shell.",
            "{He} played in the water.",
            "{He} saw a little crab on the sand.",
        ),
    ),
    Pick("Then {N} had an ice cream.", "Then {N} ate a sandwich under the big umbrella."),
    Pick("{N} liked the beach very much.", '"I love the beach!" said {N}.'),
)


def _pet(animal: str, names: tuple[str, ...], likes: str) -> Template:
    """The pet story with one kind of animal (its name drawn from ``names``)."""
    return (
        Set(animal=animal, likes=likes),
        Let("pet", names),
        Let("a_looks", [a(looks) for looks in _PET_LOOKS]),  # the article goes with the first word
        "{N} had {a_looks} {animal} named {pet}.",
        "{pet} liked to {likes}.",
        "Every day, {N} played with {pet}.",
        Maybe(
            0.6,
            "One day, {N} could not find {pet}.",
            '{N} called, "{pet}! Where are you?"',
            Let("spot", _HIDING[3:]),
            "Then {he} found {pet} {spot}.",
            "{N} was so happy to see {pet}.",
            no=("One day, {N} took {pet} to see {his} {P}.", '{His} {P} said, "What a good {animal}!"'),
        ),
        Pick("{N} loved {pet} very much.", "{pet} was {N}'s best friend."),
    )


_PET = (OneOf(*(_pet(*pet) for pet in _PETS)),)

_FARM_ANIMALS = [(animal, a(animal), does) for animal, does in _FARM]  # each with its article
_FARM_VISIT = (
    Sample([(f"farm{i}", f"a_farm{i}", f"does{i}") for i in (1, 2, 3)], _FARM_ANIMALS),
    "{N} went to the farm with {his} {P}.",
    "{He} saw {a_farm1}, {a_farm2}, and {a_farm3}.",
    OneOf(("{does1}",), ("{does1}", "{does2}"), ("{does1}", "{does2}", "{does3}")),  # what 1-3 of them did
    Pick("{N} helped {his} {P} feed the animals.", "{N} helped {his} {P} find some eggs."),
    Pick("{N} liked the {farm1} best.", "It was a fun day on the farm."),
)

_COOK = (
    Let(
        ("dish", "yummy"),
        [
            ("a cake", "The cake was"),
            ("some cookies", "The cookies were"),
            ("some muffins", "The muffins were"),
            ("pancakes", "The pancakes were"),
        ],
    ),
    "{N} and {his} {P} made {dish} together.",
    "They put flour, eggs, and milk in a big bowl.",
    "{N} mixed it all with a big spoon.",
    Maybe(0.5, "{N} got some flour on {his} nose, and {his} {P} laughed."),
    "Soon the kitchen smelled so good.",
    Pick("{yummy} yummy!", '"This is yummy!" said {N}.'),
    Maybe(0.5, "{N} gave some to {his} friend {F}."),
)

_EGG = (
    "One day, {N} found a little blue egg under a tree.",
    "{He} showed it to {his} {P}.",
    '"It fell from the nest," said {his} {P}.',
    "They carefully put the egg back in the nest.",
    Maybe(0.5, "Every day, {N} went to look at the nest."),
    "A few days later, a baby bird came out of the egg.",
    Pick("{N} was so happy.", '"Hello, little bird!" said {N}.'),
)

_SCHOOL = (
    "It was {N}'s first day at a new school.",
    Pick("{He} felt a little shy.", "{He} did not know anyone."),
    "A {fkid} named {F} sat next to {him}.",
    Pick('"Do you want to be my friend?" asked {F}.', '{F} said, "Hi! Do you want to play with me?"'),
    '{N} smiled and said, "Yes!"',
    Some(
        1,
        2,
        ("At lunch, they ate together.", "They drew pictures of cats and dogs.", "They played on the slide."),
    ),
    Pick("{N} was happy to have a new friend.", "{N} could not wait to go back to school."),
)

_BEDTIME = (
    Let("topic", ["a little bear", "a big red boat", "a brave little duck", "the moon and the stars"]),
    "It was time for bed.",
    "{N} put on {his} pajamas and brushed {his} teeth.",
    "{His} {P} read {him} a story about {topic}.",
    Maybe(0.5, '"Good night, {N}," said {his} {P}.', '"Good night, {Pv}!" said {N}.'),
    Pick("Soon {N} was fast asleep.", "{N} closed {his} eyes and fell asleep."),
    Maybe(0.5, Pick("{He} had a happy dream.", "{He} dreamed of a big {color} kite.")),
)

_BIRTHDAY = (
    Let("age", ["five", "six", "seven"]),
    "It was {N}'s birthday, and {he} was {age} years old.",
    "There was a big cake with {age} candles.",
    Maybe(0.6, "{N} made a wish and blew out the candles."),
    "{His} friend {F} gave {him} {a_toy}.",
    '{N} said, "Thank you, {F}! I love it!"',
    Maybe(0.5, "They ate cake and played games."),
    Pick("It was the best birthday ever.", "{N} was very happy that day."),
)

_GARDEN = (
    "{N} and {his} {P} planted some seeds in the garden.",
    "Every day, {N} gave the seeds some water.",
    "After a few days, little green plants came up.",
    Maybe(0.5, "The plants got bigger and bigger."),
    "One morning, {N} saw {a_color} flower!",
    Pick('"Look, {Pv}!" said {N}.', '{N} said, "Look, {Pv}! It is so pretty!"'),
    Pick("{N} was proud of {his} garden.", "{His} {P} gave {him} a big smile."),
)

TEMPLATES: tuple[Template, ...] = (
    _PARK,
    _LOST_TOY,
    _SHARE,
    _HELP,
    _RAIN,
    _SNOW,
    _WIND,
    _BEACH,
    _PET,
    _FARM_VISIT,
    _COOK,
    _EGG,
    _SCHOOL,
    _BEDTIME,
    _BIRTHDAY,
    _GARDEN,
)


def story(rng: random.Random) -> list[str]:
    """One English story as a list of sentences."""
    kid, friend_kid = rng.choice(("girl", "boy")), rng.choice(("girl", "boy"))
    name = rng.choice(GIRLS if kid == "girl" else BOYS)
    friend = rng.choice([f for f in (GIRLS if friend_kid == "girl" else BOYS) if f != name])
    grownup, grownup_called = rng.choice(_GROWNUPS)
    color = rng.choice(_COLORS)
    toy = rng.choice(_COLORS) + " " + rng.choice(_TOYS) if rng.random() < 0.6 else rng.choice(_TOYS)
    food, foods = rng.choice(_FOODS)
    slots = {
        "N": name,
        **_PRONOUNS[kid],
        "F": friend,  # the friend's words, as far as a template uses them
        "fhim": _PRONOUNS[friend_kid]["him"],
        "fkid": _PRONOUNS[friend_kid]["kid"],
        "P": grownup,
        "Pv": grownup_called,
        "color": color,
        "a_color": a(color),
        "toy": toy,
        "a_toy": a(toy),
        "foods": foods,
        "a_food": a(food),
        "num": rng.choice(_NUMBERS),
    }
    sentences = story_sentences(rng, TEMPLATES, slots)
    if len(sentences) < MAX_SENTENCES and rng.random() < 0.25:
        sentences.insert(0, _ONCE.format_map(slots))
    return sentences
