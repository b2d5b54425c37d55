"""Adapters: the electronic certificate (电子职称证书) as a PDF, with reportlab's built-in Chinese font
(no font files) and a QR code that opens the public check."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from certificates.domain.certificate import METHODS, SOURCES

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def render_certificate(cert: Mapping[str, Any], check_url: str) -> bytes:
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"专业技术职务任职资格证书 {cert['certificate_no']}")
    pdf.setAuthor(str(cert["issuing_authority"]))
    pdf.setLineWidth(3)
    pdf.rect(30, 30, width - 60, height - 60)
    pdf.setFont(FONT, 28)
    pdf.drawCentredString(width / 2, height - 100, "专业技术职务任职资格证书")
    rows = [
        ("姓名", cert["holder_name"]),
        ("证件号码", cert["holder_id_masked"]),
        ("资格名称", cert.get("qualification_name") or cert["qualification_code"]),
        ("专业", cert.get("specialty") or "—"),
        ("评审委员会", cert.get("committee_name") or "—"),
        ("评价方式", METHODS.get(str(cert.get("evaluation_method")), cert.get("evaluation_method") or "—")),
        ("批准文号", cert.get("document_number") or "—"),
        ("发证日期", str(cert["issue_date"])),
        ("发证单位", cert["issuing_authority"]),
        ("证书编号", cert["certificate_no"]),
        ("来源", SOURCES.get(str(cert["source"]), str(cert["source"]))),
    ]
    pdf.setFont(FONT, 15)
    y = height - 160
    for label, value in rows:
        pdf.drawString(90, y, f"{label}：{value}")
        y -= 28
    if cert.get("status") == "revoked":
        pdf.setFont(FONT, 40)
        pdf.setFillColorRGB(0.8, 0, 0)
        pdf.drawCentredString(width / 2, height / 2, "已撤销")
        pdf.setFillColorRGB(0, 0, 0)
    code = qr.QrCodeWidget(check_url)
    x0, y0, x1, y1 = code.getBounds()
    size = 130
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(code)
    renderPDF.draw(drawing, pdf, width - 90 - size, 60)
    pdf.setFont(FONT, 9)
    pdf.drawString(width - 90 - size, 50, "扫码核验证书真伪")
    pdf.drawString(90, 50, f"签名密钥 {cert['key_id']}")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
