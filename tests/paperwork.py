"""Generated invoices and contracts with known fields, for the field tests and bench/fields.py.

Every document is drawn with Pillow from a seeded random generator (``random.Random(seed)``),
so a seed always gives the same page, and comes with its truth: ``Paper(image, truth)`` where
``truth`` maps field names to the values a reader should suggest. Kinds:

* ``vat_paper``: a paper VAT special invoice (增值税专用发票): 发票代码, 8-digit 发票号码, the
  buyer's block above the seller's, 合计 with 金额 and 税额, 价税合计 in words and figures.
* ``vat_digital``: a 数电票 (电子发票（增值税专用发票）): a 20-digit number, no code, buyer and
  seller side by side, 统一社会信用代码/纳税人识别号.
* ``en_invoice``: an English invoice, its total sometimes without a currency sign.
* ``contract``: a Chinese purchase contract with 甲方/乙方, a number, dates and an amount.

Tax IDs are valid 统一社会信用代码 (GB 32100 check digit computed here), unless a test asks
for a broken one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from PIL import Image, ImageDraw

from tests.documents import DPI, _font

KINDS = ("vat_paper", "vat_digital", "en_invoice", "contract")

_CITIES = ["上海", "北京", "杭州", "深圳", "广州", "南京", "苏州", "成都", "武汉", "天津"]
_WORDS = [
    "明远",
    "华信",
    "云杉",
    "恒通",
    "嘉禾",
    "瑞丰",
    "宏达",
    "新创",
    "博雅",
    "启航",
    "金桥",
    "东方",
]
_TRADES = ["贸易", "科技", "软件", "物流", "电子", "建材", "咨询", "印务", "机械", "食品"]
_EN_NAMES = ["Harbour", "Redwood", "Northwind", "Bluebell", "Summit", "Granite", "Meadow", "Atlas"]
_EN_KINDS = ["Tools Ltd", "Archive Co", "Trading Ltd", "Supplies Inc", "Logistics LLC"]
_USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CN_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def uscc(rng: random.Random, *, valid: bool = True) -> str:
    """A 统一社会信用代码 with a correct (or, if not ``valid``, a wrong) check digit."""
    body = "91" + "".join(rng.choice("0123456789") for _ in range(6))
    body += "".join(rng.choice(_USCC) for _ in range(9))
    total = sum(_USCC.index(c) * w for c, w in zip(body, _WEIGHTS, strict=True))
    check = (31 - total % 31) % 31
    return body + _USCC[check if valid else (check + 1) % 31]


def amount_in_words(value: Decimal) -> str:
    """``Decimal("7018.83")`` → 柒仟零壹拾捌圆捌角叁分 (as invoices print it)."""
    yuan = int(value)
    jiao, fen = divmod(int((value - yuan) * 100), 10)
    units = ["", "拾", "佰", "仟"]
    parts, zero = [], False
    digits = str(yuan)
    for i, d in enumerate(digits):
        position = len(digits) - 1 - i
        if d == "0":
            zero = True
            if position == 4:
                parts.append("万")
            continue
        if zero:
            parts.append("零")
            zero = False
        parts.append(_CN_DIGITS[int(d)] + units[position % 4])
        if position == 4:
            parts.append("万")
    text = "".join(parts) + "圆"
    if jiao == 0 and fen == 0:
        return text + "整"
    text += (_CN_DIGITS[jiao] + "角") if jiao else "零"
    return text + (_CN_DIGITS[fen] + "分" if fen else "整")


def company(rng: random.Random) -> str:
    return f"{rng.choice(_CITIES)}{rng.choice(_WORDS)}{rng.choice(_TRADES)}有限公司"


def _en_company(rng: random.Random) -> str:
    return f"{rng.choice(_EN_NAMES)} {rng.choice(_EN_KINDS)}"


@dataclass(frozen=True)
class Paper:
    kind: str
    image: Image.Image
    truth: dict[str, str]


class _Page:
    def __init__(self, width: int, height: int, size: int = 40) -> None:
        self.image = Image.new("L", (width, height), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.font = _font(size)
        self.image.info["dpi"] = (DPI, DPI)

    def text(self, x: int, y: int, value: str) -> None:
        self.draw.text((x, y), value, fill=0, font=self.font)


def _money(rng: random.Random) -> tuple[Decimal, Decimal, Decimal]:
    net = Decimal(rng.randint(10_000, 9_999_999)) / 100
    tax = (net * Decimal("0.13")).quantize(Decimal("0.01"))
    return net, tax, net + tax


def _day(rng: random.Random) -> date:
    return date(2024, 1, 1) + timedelta(days=rng.randint(0, 700))


def vat_paper(rng: random.Random) -> Paper:
    buyer, seller = company(rng), company(rng)
    buyer_id, seller_id = uscc(rng), uscc(rng)
    code = "".join(rng.choice("0123456789") for _ in range(10))
    number = "".join(rng.choice("0123456789") for _ in range(8))
    day = _day(rng)
    net, tax, total = _money(rng)
    page = _Page(2000, 1250)
    page.text(700, 60, "增值税专用发票")
    page.text(100, 150, f"发票代码: {code}")
    page.text(1150, 150, f"发票号码: {number}")
    page.text(1150, 220, f"开票日期: {day.year}年{day.month:02d}月{day.day:02d}日")
    page.text(100, 320, f"购买方 名称: {buyer}")
    page.text(100, 390, f"纳税人识别号: {buyer_id}")
    page.text(100, 520, "货物或应税劳务名称    数量    单价    金额    税率    税额")
    page.text(100, 600, f"合计    ¥{net}    ¥{tax}")
    page.text(100, 680, f"价税合计(大写) {amount_in_words(total)}    (小写)¥{total}")
    page.text(100, 800, f"销售方 名称: {seller}")
    page.text(100, 870, f"纳税人识别号: {seller_id}")
    truth = {
        "invoice_number": number,
        "invoice_date": day.isoformat(),
        "total": f"{total:.2f}",
        "buyer": buyer,
        "seller": seller,
    }
    return Paper("vat_paper", page.image, truth)


def vat_digital(rng: random.Random) -> Paper:
    buyer, seller = company(rng), company(rng)
    buyer_id, seller_id = uscc(rng), uscc(rng)
    number = "".join(rng.choice("0123456789") for _ in range(20))
    day = _day(rng)
    net, tax, total = _money(rng)
    page = _Page(2200, 1150)
    page.text(600, 60, "电子发票(增值税专用发票)")
    page.text(1300, 150, f"发票号码: {number}")
    page.text(1300, 220, f"开票日期: {day.year}年{day.month:02d}月{day.day:02d}日")
    page.text(100, 330, "购买方信息")
    page.text(1150, 330, "销售方信息")
    page.text(100, 400, f"名称: {buyer}")
    page.text(1150, 400, f"名称: {seller}")
    page.text(100, 470, f"统一社会信用代码/纳税人识别号: {buyer_id}")
    page.text(1150, 470, f"统一社会信用代码/纳税人识别号: {seller_id}")
    page.text(100, 640, f"合计    ¥{net}    ¥{tax}")
    page.text(100, 720, f"价税合计(大写) {amount_in_words(total)}    (小写)¥{total}")
    truth = {
        "invoice_number": number,
        "invoice_date": day.isoformat(),
        "total": f"{total:.2f}",
        "buyer": buyer,
        "seller": seller,
    }
    return Paper("vat_digital", page.image, truth)


def en_invoice(rng: random.Random) -> Paper:
    buyer, seller = _en_company(rng), _en_company(rng)
    number = f"INV-{rng.randint(10000, 99999)}"
    day = _day(rng)
    net, tax, total = _money(rng)
    sign = rng.choice(["USD ", "$", ""])
    page = _Page(1600, 900)
    page.text(100, 60, "INVOICE")
    page.text(100, 150, f"Invoice No. {number}")
    page.text(100, 220, f"Date: {day.strftime('%B')} {day.day}, {day.year}")
    page.text(100, 290, f"Seller: {seller}")
    page.text(100, 360, f"Bill To: {buyer}")
    page.text(100, 470, f"Subtotal: {net:,.2f}")
    page.text(100, 540, f"Tax: {tax:,.2f}")
    page.text(100, 610, f"Total: {sign}{total:,.2f}")
    truth = {
        "invoice_number": number,
        "invoice_date": day.isoformat(),
        "total": f"{total:.2f}",
        "buyer": buyer,
        "seller": seller,
    }
    return Paper("en_invoice", page.image, truth)


def contract(rng: random.Random) -> Paper:
    party_a, party_b = company(rng), company(rng)
    number = f"HT-{rng.randint(2024, 2026)}-{rng.randint(1, 9999):04d}"
    signed = _day(rng)
    ends = signed + timedelta(days=365 * rng.randint(1, 3))
    amount = Decimal(rng.randint(100_000, 99_999_999)) / 100
    page = _Page(1700, 1000)
    page.text(650, 60, "采购合同")
    page.text(100, 160, f"合同编号: {number}")
    page.text(100, 230, f"甲方: {party_a}")
    page.text(100, 300, f"乙方: {party_b}")
    page.text(100, 370, f"合同金额: ¥{amount:,.2f}元")
    page.text(100, 440, f"签订日期: {signed.year}年{signed.month}月{signed.day}日")
    page.text(100, 510, f"有效期至: {ends.year}年{ends.month}月{ends.day}日")
    page.text(100, 580, "逾期交货须支付违约金。")
    truth = {
        "contract_number": number,
        "sign_date": signed.isoformat(),
        "total": f"{amount:.2f}",
        "party_a": party_a,
        "party_b": party_b,
    }
    return Paper("contract", page.image, truth)


GENERATORS = {
    "vat_paper": vat_paper,
    "vat_digital": vat_digital,
    "en_invoice": en_invoice,
    "contract": contract,
}


def generate(kind: str, seed: int) -> Paper:
    return GENERATORS[kind](random.Random(f"{kind}-{seed}"))
