# ruff: noqa: RUF001  (full-width Chinese punctuation is intended in the Chinese templates)
"""Templated review titles and texts in English and Chinese, one family per complaint cause.

Texts are meant to be classified, so they carry cues for their cause ("arrived two weeks late" vs "broke
after a week") — but not always: some negative reviews are vague, and some quality complaints mention a
fast delivery, so a keyword rule gets most, not all, of them right.
"""

from __future__ import annotations

import numpy as np

CAUSES = ("logistics", "quality", "other")

EN_NEGATIVE: dict[str, tuple[tuple[str, str], ...]] = {
    "logistics": (
        ("Arrived way too late", "The package arrived {n} days late and the box was {box_en}."),
        ("Shipping took forever", "Shipping took {w} weeks, long past the promised delivery date."),
        ("Tracking was useless", "Tracking said delivered but it only showed up {n} days later."),
        ("Damaged in transit", "The courier left the parcel at the door with the outer box {box_en}."),
        ("Late delivery", "Ordered it for a birthday and it arrived {w} weeks late. Delivery was a mess."),
    ),
    "quality": (
        ("Broke after a week", "The {part} broke after {n} days of normal use."),
        ("Stopped working", "Stopped working after {n} days. Poor build quality."),
        ("Cheap material", "Material feels cheap and the {part} cracked the first time I used it."),
        ("Fell apart", "The {part} came apart within {w} weeks. Flimsy and badly made."),
        ("Defective", "Arrived quickly, but the {part} was defective and broke after {n} days."),
    ),
    "other": (
        ("Not as pictured", "The colour is quite different from the photos in the listing."),
        ("Runs small", "Much smaller than the listing suggests; check the measurements before buying."),
        ("Overpriced", "Overpriced for what you get, there are better options for less money."),
        ("No reply from seller", "Instructions are confusing and the seller never answered my message."),
    ),
}
EN_VAGUE = (
    ("Disappointed", "Not happy with this purchase at all."),
    ("Would not buy again", "Would not recommend. Expected more."),
    ("Meh", "Did not meet my expectations."),
)
EN_POSITIVE = (
    ("Works great", "Exactly as described, the {part} feels solid. Would buy again."),
    ("Great value", "Great value for the price, using it every day."),
    ("Love it", "Does what it says. My family loves it."),
    ("Good but not perfect", "Decent overall; the {part} could be a bit sturdier."),
)
ZH_NEGATIVE: dict[str, tuple[tuple[str, str], ...]] = {
    "logistics": (
        ("物流太慢", "等了{n}天才到货，比承诺的时间晚了很多。"),
        ("快递很差", "快递盒子被压坏了，外包装{box_zh}。"),
        ("物流信息不更新", "物流信息一直不更新，晚了{n}天才收到。"),
        ("配送延误", "配送延误了{w}周，完全错过了要用的时间。"),
    ),
    "quality": (
        ("质量太差", "用了{n}天就坏了，质量太差。"),
        ("做工粗糙", "做工粗糙，{part_zh}一碰就断。"),
        ("材质廉价", "材质很廉价，用了{w}周就开裂了。"),
        ("有质量问题", "到货挺快，但是{part_zh}有质量问题，{n}天就坏了。"),
    ),
    "other": (
        ("与描述不符", "尺寸和描述不符，偏小很多。"),
        ("颜色有差别", "颜色和图片差别很大。"),
        ("性价比低", "价格偏贵，性价比不高。"),
        ("客服不回复", "说明书看不懂，客服一直不回复。"),
    ),
}
ZH_VAGUE = (("很失望", "不推荐购买。"), ("不满意", "和预期差距很大。"))
ZH_POSITIVE = (
    ("非常满意", "质量很好，和描述一致，很满意。"),
    ("值得购买", "性价比很高，推荐。"),
    ("不错", "用了一段时间，还不错。"),
)

BOXES_EN = ("crushed", "torn open", "soaking wet", "dented")
BOXES_ZH = ("破损严重", "被撕开了", "全湿了")
PARTS_ZH = ("把手", "外壳", "接口", "边缘", "扣子")
VAGUE_SHARE = 0.12


def review_text(language: str, rating: int, cause: str | None, part: str, u: np.ndarray) -> tuple[str, str]:
    """(title, text) of a review; ``u`` holds four uniforms that pick the template and fill its slots."""
    zh = language == "zh"
    if cause is None:
        options = ZH_POSITIVE if zh else EN_POSITIVE
    elif u[0] < VAGUE_SHARE:
        options = ZH_VAGUE if zh else EN_VAGUE
    else:
        options = (ZH_NEGATIVE if zh else EN_NEGATIVE)[cause]
    title, text = options[int(u[1] * len(options))]
    text = text.format(
        n=2 + int(u[2] * 12),
        w=2 + int(u[3] * 3),
        box_en=BOXES_EN[int(u[2] * len(BOXES_EN))],
        box_zh=BOXES_ZH[int(u[3] * len(BOXES_ZH))],
        part=part,
        part_zh=PARTS_ZH[int(u[3] * len(PARTS_ZH))],
    )
    if not zh and rating == 1 and cause is not None:
        title += "!"
    return title, text
