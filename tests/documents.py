"""Generated test documents: scans, born-digital PDFs and hostile inputs, made at run time.

Nothing here is a checked-in binary: every document is drawn with Pillow (and a CJK font found on
the machine) or written byte by byte, so tests stay small, licence-free and reproducible.
Other test packages import this module; keep it dependency-free beyond Pillow and pypdf.

Pages are drawn at 300 dpi with a large font and only a few lines, so Tesseract reads them in
about a second. ``cjk_font()`` returns None when no CJK font is installed: tests that draw
Chinese should call ``require_cjk_font()`` (it skips with a reason).

Generators (all return the path or image they made):
  render_page(lines, ...) -> Image          write_png / write_jpeg / write_tiff(images, path)
  write_scanned_pdf(images, path)           image-only PDF, one image per page
  write_text_pdf(pages, path)               born-digital PDF with a real text layer
  write_garbage_layer_pdf(image, path)      scan + a text layer that extracts as junk
  rotate_page(image, degrees)               a page scanned upside down or sideways
  faded_receipt(lines)                      light grey thermal print on off-white with noise
  write_empty / write_truncated / write_encrypted_pdf / write_bomb_png / write_text_as_pdf
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

DPI = 300

CONTRACT_LINES = [
    "采购合同",
    "合同编号: HT-2026-0315",
    "甲方: 上海明远贸易有限公司",
    "乙方: 北京华信科技有限公司",
    "合同金额: ¥128,000.00元",
    "签订日期: 2026年3月5日",
    "逾期交货须支付违约金。",
]

INVOICE_LINES = [
    "增值税专用发票",
    "发票代码: 3100212130",
    "发票号码: 08741295",
    "开票日期: 2026年03月18日",
    "购买方名称: 上海明远贸易有限公司",
    "销售方名称: 杭州云杉软件有限公司",
    "价税合计(大写): 壹万贰仟元整",
    "(小写) ¥12,000.00",
]

ENGLISH_INVOICE_LINES = [
    "INVOICE",
    "Invoice No. INV-20417",
    "Date: March 5, 2026",
    "Seller: Harbour Tools Ltd",
    "Buyer: Redwood Archive Co",
    "Total: USD 4,250.00",
]

RECEIPT_LINES = [
    "WELLMART STORE",
    "RECEIPT 0042",
    "MILK 2L      6.50",
    "BREAD        3.20",
    "TOTAL        9.70",
    "THANK YOU",
]

_FONT_CANDIDATES = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
]


@functools.cache
def cjk_font() -> Path | None:
    """A font file with Chinese glyphs, or None. Asks fontconfig first, then known paths."""
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}", "Noto Sans CJK SC:lang=zh-cn"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and Path(out).is_file() and ("CJK" in out or "wqy" in out.lower()):
            return Path(out)
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def require_cjk_font() -> Path:
    """The CJK font, or skip the calling test with a clear reason."""
    font = cjk_font()
    if font is None:
        import pytest

        pytest.skip("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    return font


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = cjk_font()
    if path is None:
        return ImageFont.load_default(size)
    # index 2 of the Noto CJK collection is Simplified Chinese; other files have one face.
    index = 2 if path.name.startswith("NotoSansCJK") else 0
    return ImageFont.truetype(str(path), size, index=index)


def render_page(
    lines: Sequence[str],
    *,
    font_size: int = 64,
    width: int | None = None,
    margin: int = 120,
    ink: int = 0,
    paper: int = 255,
    a4: bool = False,
) -> Image.Image:
    """Draw ``lines`` black on white (grayscale, 300 dpi). Compact unless ``a4``."""
    font = _font(font_size)
    line_height = round(font_size * 1.6)
    text_width = max((round(font.getlength(line)) for line in lines if line), default=font_size)
    if a4:
        size = (2480, 3508)
    else:
        size = (width or text_width + 2 * margin, len(lines) * line_height + 2 * margin)
    image = Image.new("L", size, paper)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * line_height), line, fill=ink, font=font)
    image.info["dpi"] = (DPI, DPI)
    return image


def rotate_page(image: Image.Image, degrees: int) -> Image.Image:
    """The page as a scanner would deliver it when fed turned by ``degrees`` (counter-clockwise)."""
    rotated = image.rotate(degrees, expand=True, fillcolor=255)
    rotated.info["dpi"] = image.info.get("dpi", (DPI, DPI))
    return rotated


def _grain(size: tuple[int, int], sigma: float, seed: int = 7) -> Image.Image:
    """Gaussian noise centred on 128, the same on every run: Pillow's ``effect_noise`` draws
    from an unseeded generator, and a receipt that reads on one run and not the next makes a
    flaky test."""
    values = numpy.random.default_rng(seed).normal(128.0, sigma, (size[1], size[0]))
    return Image.fromarray(numpy.clip(values, 0, 255).astype(numpy.uint8), mode="L")


def faded_receipt(
    lines: Sequence[str] = RECEIPT_LINES,
    *,
    ink: int = 212,
    paper: int = 232,
    noise: float = 5.0,
    edges: int = 0,
) -> Image.Image:
    """Thermal-print receipt that has faded: light grey text on off-white paper, with grain and
    one dark punched hole. The hole matters: a global threshold (Tesseract's Otsu) then splits
    "hole" from "everything else" and the faint print vanishes, as on real faded scans.
    ``edges``: width in pixels of the dark bands a scanner leaves beside a narrow receipt
    (left and right), which alone put several per cent of the pixels below mid-grey."""
    page = render_page(lines, font_size=44, margin=60 + edges, ink=ink, paper=paper)
    grain = _grain(page.size, noise)
    faded = ImageChops.add(page, grain, 1.0, -128)  # page + (grain - 128), clipped to 0..255
    faded = faded.filter(ImageFilter.GaussianBlur(0.6))
    draw = ImageDraw.Draw(faded)
    draw.ellipse((faded.width - 60 - edges, 20, faded.width - 20 - edges, 60), fill=20)
    if edges:
        draw.rectangle((0, 0, edges, faded.height), fill=25)
        draw.rectangle((faded.width - edges, 0, faded.width, faded.height), fill=25)
    faded.info["dpi"] = (DPI, DPI)
    return faded


TWO_COLUMN_LEFT = [
    "第一条 合同标的与数量",
    "甲方向乙方采购办公设备",
    "共计二十台套并负责安装",
    "第二条 交货时间与地点",
    "乙方应于三月底前交货至",
    "甲方位于上海的仓库内。",
]
TWO_COLUMN_RIGHT = [
    "第三条 付款方式与期限",
    "甲方收到设备验收合格后",
    "三十日内一次付清全部款",
    "第四条 违约责任的约定",
    "逾期交货须支付违约金额",
    "每日按合同总价千分之一",
]


def two_column_page() -> Image.Image:
    """A title across the page, then two columns of running Chinese text whose lines sit at
    the same heights (as typeset columns do), so only the gutter tells the columns apart."""
    font = _font(48)
    line_height = 80
    column = round(max(font.getlength(line) for line in TWO_COLUMN_LEFT + TWO_COLUMN_RIGHT))
    gutter, margin = 140, 100
    size = (2 * margin + 2 * column + gutter, 2 * margin + (len(TWO_COLUMN_LEFT) + 2) * line_height)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    draw.text((margin, margin), "办公设备采购合同条款摘要", fill=0, font=font)
    for i, (left, right) in enumerate(zip(TWO_COLUMN_LEFT, TWO_COLUMN_RIGHT, strict=True)):
        y = margin + (i + 2) * line_height
        draw.text((margin, y), left, fill=0, font=font)
        draw.text((margin + column + gutter, y), right, fill=0, font=font)
    image.info["dpi"] = (DPI, DPI)
    return image


TABLE_ROWS = [
    ("品名", "数量", "单价", "金额"),
    ("打印机", "2", "1,500.00", "3,000.00"),
    ("碎纸机", "1", "800.00", "800.00"),
    ("档案柜", "4", "1,200.00", "4,800.00"),
]


def table_page() -> Image.Image:
    """A ruled table: its columns are separated by gutters too, but it reads row by row."""
    font = _font(48)
    widths, height, margin = (300, 200, 300, 300), 90, 100
    size = (2 * margin + sum(widths), 2 * margin + len(TABLE_ROWS) * height)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(TABLE_ROWS):
        x = margin
        y = margin + r * height
        for width, cell in zip(widths, row, strict=True):
            draw.rectangle((x, y, x + width, y + height), outline=0, width=3)
            draw.text((x + 30, y + 18), cell, fill=0, font=font)
            x += width
    image.info["dpi"] = (DPI, DPI)
    return image


def bilevel(image: Image.Image) -> Image.Image:
    """The page as a fax or a black-and-white scanner delivers it: 1 bit per pixel."""
    page = image.convert("L").point(lambda v: 255 if v > 128 else 0).convert("1")
    page.info["dpi"] = image.info.get("dpi", (DPI, DPI))
    return page


def write_g4_tiff(image: Image.Image, path: str | os.PathLike[str]) -> Path:
    """A bilevel TIFF compressed with CCITT Group 4, as fax machines and scanners write it."""
    bilevel(image).save(path, "TIFF", compression="group4", **_save_kwargs(image))
    return Path(path)


def _save_kwargs(image: Image.Image) -> dict[str, object]:
    return {"dpi": image.info.get("dpi", (DPI, DPI))}


# Images are saved as copies: Pillow remembers the last encoder settings on the image object
# and would apply them when the same image is later appended to a TIFF.


def write_png(image: Image.Image, path: str | os.PathLike[str]) -> Path:
    image.copy().save(path, "PNG", **_save_kwargs(image))
    return Path(path)


def write_jpeg(image: Image.Image, path: str | os.PathLike[str], quality: int = 90) -> Path:
    image.convert("RGB").save(path, "JPEG", quality=quality, **_save_kwargs(image))
    return Path(path)


def write_tiff(images: Sequence[Image.Image], path: str | os.PathLike[str]) -> Path:
    """Multi-page TIFF (one frame per image), losslessly compressed."""
    first, *rest = [im.copy() for im in images]
    first.save(
        path, "TIFF", save_all=True, append_images=rest, compression="tiff_lzw",
        **_save_kwargs(first),
    )  # fmt: skip
    return Path(path)


def write_scanned_pdf(images: Sequence[Image.Image], path: str | os.PathLike[str]) -> Path:
    """Image-only PDF (no text layer), one page per image, at the images' resolution."""
    first, *rest = [im.convert("L") for im in images]
    first.save(path, "PDF", save_all=True, append_images=rest, resolution=float(DPI), quality=90)
    return Path(path)


# --- a minimal hand-written PDF writer -------------------------------------------------------
# Pillow cannot write text and reportlab is not a dependency, so born-digital PDFs are written
# by hand: standard fonts only (Helvetica for ASCII, the Adobe-GB1 "STSong-Light" CID font for
# Chinese, which readers substitute with an installed Chinese font, as with reportlab's
# UnicodeCIDFont). The text layer is real and exact, which is what the tests need.


class _PdfWriter:
    def __init__(self) -> None:
        self.objects: list[bytes] = []

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def reserve(self) -> int:
        return self.add(b"")

    def set(self, number: int, body: bytes) -> None:
        self.objects[number - 1] = body

    def stream(self, data: bytes, extra: bytes = b"") -> int:
        return self.add(
            b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"
        )

    def build(self, root: int) -> bytes:
        out = io.BytesIO()
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(self.objects, 1):
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objects) + 1))
        for offset in offsets:
            out.write(b"%010d 00000 n \n" % offset)
        out.write(
            b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(self.objects) + 1, root, xref)
        )
        return out.getvalue()


def _latin_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _fonts(writer: _PdfWriter) -> bytes:
    helvetica = writer.add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    descriptor = writer.add(
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /ItalicAngle 0 "
        b"/FontBBox [-25 -254 1000 880] /Ascent 880 /Descent -120 /CapHeight 880 "
        b"/StemV 93 >>"
    )
    cid = writer.add(
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
        b"/FontDescriptor %d 0 R /DW 1000 >>" % descriptor
    )
    song = writer.add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light "
        b"/Encoding /UniGB-UTF16-H /DescendantFonts [%d 0 R] >>" % cid
    )
    return b"/Font << /F1 %d 0 R /F2 %d 0 R >>" % (helvetica, song)


def write_text_pdf(
    pages: Sequence[Sequence[str]], path: str | os.PathLike[str], font_size: int = 14
) -> Path:
    """Born-digital A4 PDF: each page's lines as real text (Chinese or English)."""
    writer = _PdfWriter()
    pages_id = writer.reserve()
    fonts = _fonts(writer)
    kids = []
    for lines in pages:
        ops = [b"BT", b"%d TL" % round(font_size * 1.5), b"72 770 Td"]
        for line in lines:
            if line.isascii():
                ops.append(b"/F1 %d Tf %s '" % (font_size, _latin_string(line)))
            else:
                ops.append(
                    b"/F2 %d Tf <%s> '" % (font_size, line.encode("utf-16-be").hex().encode())
                )
        ops.append(b"ET")
        content = writer.stream(b"\n".join(ops))
        kids.append(
            writer.add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                b"/Resources << %s >> /Contents %d 0 R >>" % (pages_id, fonts, content)
            )
        )
    writer.set(
        pages_id,
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % k for k in kids), len(kids)),
    )
    root = writer.add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    Path(path).write_bytes(writer.build(root))
    return Path(path)


def write_garbage_layer_pdf(
    image: Image.Image, path: str | os.PathLike[str], junk: str = "Contract text layer"
) -> Path:
    """A scan with an invisible text layer whose font maps every code to the Private Use
    Area, as broken producers do: the layer exists but extracts as junk, so OCR must run."""
    writer = _PdfWriter()
    pages_id = writer.reserve()
    gray = image.convert("L")
    jpeg = io.BytesIO()
    gray.save(jpeg, "JPEG", quality=85)
    img = writer.stream(
        jpeg.getvalue(),
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /DCTDecode" % gray.size,
    )
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
        b"/CMapName /Junk def /CMapType 2 def 1 begincodespacerange <00> <FF> "
        b"endcodespacerange 1 beginbfrange <20> <7E> <E020> endbfrange endcmap "
        b"CMapName currentdict /CMap defineresource pop end end"
    )
    to_unicode = writer.stream(cmap)
    font = writer.add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode %d 0 R >>" % to_unicode
    )
    dpi = image.info.get("dpi", (DPI, DPI))[0]
    w, h = (round(v * 72 / dpi) for v in gray.size)
    ops = [b"q %d 0 0 %d 0 0 cm /Im0 Do Q" % (w, h), b"BT 3 Tr /F1 12 Tf 16 TL 40 %d Td" % (h - 60)]
    ops += [b"%s '" % _latin_string(junk) for _ in range(6)]
    ops.append(b"ET")
    content = writer.stream(b"\n".join(ops))
    page = writer.add(
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Resources << "
        b"/XObject << /Im0 %d 0 R >> /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
        % (pages_id, w, h, img, font, content)
    )
    writer.set(pages_id, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    root = writer.add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    Path(path).write_bytes(writer.build(root))
    return Path(path)


# --- bad inputs -----------------------------------------------------------------------------


def write_empty(path: str | os.PathLike[str]) -> Path:
    Path(path).write_bytes(b"")
    return Path(path)


def write_truncated(source: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """The first 60 % of ``source``: an upload cut short."""
    data = Path(source).read_bytes()
    Path(path).write_bytes(data[: len(data) * 6 // 10])
    return Path(path)


def write_encrypted_pdf(
    source: str | os.PathLike[str], path: str | os.PathLike[str], password: str = "secret"
) -> Path:
    """``source`` encrypted with a user password (AES), so it cannot be opened without it."""
    import pypdf

    writer = pypdf.PdfWriter(clone_from=str(source))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    with open(path, "wb") as f:
        writer.write(f)
    return Path(path)


def write_bomb_png(path: str | os.PathLike[str], width: int = 60_000, height: int = 60_000) -> Path:
    """A tiny PNG whose header declares ``width``×``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1) * 4, 9)  # a few rows; the rest "would" follow
    Path(path).write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return Path(path)


def write_text_as_pdf(path: str | os.PathLike[str]) -> Path:
    """A plain text file that only claims to be a PDF by its name."""
    Path(path).write_text("This is not a PDF, just text with a .pdf name.\n", encoding="utf-8")
    return Path(path)
