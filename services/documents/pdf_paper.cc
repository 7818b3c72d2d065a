#include "services/documents/pdf_paper.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace reception::documents {
namespace {

// A4 in points, margins after Decree 30/2020 (left 30 mm, right 20 mm, top
// and bottom 20 mm).
constexpr double kPageWidth = 595.276;
constexpr double kPageHeight = 841.89;
constexpr double kLeft = 85.0;
constexpr double kRight = 57.0;
constexpr double kTop = 57.0;
constexpr double kBottom = 57.0;
constexpr double kWidth = kPageWidth - kLeft - kRight;
constexpr char kFamily[] = "DejaVu Serif";

struct FontFree {
  void operator()(PangoFontDescription* f) const { pango_font_description_free(f); }
};
struct LayoutFree {
  void operator()(PangoLayout* l) const { g_object_unref(l); }
};
using Font = std::unique_ptr<PangoFontDescription, FontFree>;
using Layout = std::unique_ptr<PangoLayout, LayoutFree>;

Font MakeFont(double size, bool bold, bool italic) {
  Font f(pango_font_description_new());
  pango_font_description_set_family(f.get(), kFamily);
  pango_font_description_set_absolute_size(f.get(), size * PANGO_SCALE);
  pango_font_description_set_weight(f.get(), bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_font_description_set_style(f.get(), italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL);
  return f;
}

struct Style {
  double size = 13;
  bool bold = false;
  bool italic = false;
  PangoAlignment align = PANGO_ALIGN_LEFT;
  bool justify = false;
  double indent = 0;  // first line, points
};

class Writer {
 public:
  Writer(cairo_t* cr, const Paper& paper) : cr_(cr), paper_(paper) { Footer(); }

  // Plain text (never markup: a citizen's words are not Pango markup).
  Layout Make(const std::string& text, const Style& s, double width) {
    Layout l(pango_cairo_create_layout(cr_));
    Font f = MakeFont(s.size, s.bold, s.italic);
    pango_layout_set_font_description(l.get(), f.get());
    pango_layout_set_width(l.get(), static_cast<int>(width * PANGO_SCALE));
    pango_layout_set_wrap(l.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l.get(), s.align);
    pango_layout_set_justify(l.get(), s.justify);
    pango_layout_set_indent(l.get(), static_cast<int>(s.indent * PANGO_SCALE));
    pango_layout_set_spacing(l.get(), static_cast<int>(s.size * 0.25 * PANGO_SCALE));
    pango_layout_set_text(l.get(), text.data(), static_cast<int>(text.size()));
    return l;
  }

  // Draws at (x, y) without breaking pages; returns its height.
  double Place(const std::string& text, const Style& s, double x, double y, double width) {
    Layout l = Make(text, s, width);
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, l.get());
    int w = 0, h = 0;
    pango_layout_get_size(l.get(), &w, &h);
    return static_cast<double>(h) / PANGO_SCALE;
  }

  // Flows text line by line at the cursor, breaking pages as needed.
  void Flow(const std::string& text, const Style& s, double x = kLeft, double width = kWidth,
            double after = 6) {
    if (text.empty()) return;
    Layout l = Make(text, s, width);
    PangoLayoutIter* it = pango_layout_get_iter(l.get());
    do {
      PangoRectangle logical;
      pango_layout_iter_get_line_extents(it, nullptr, &logical);
      const double top = static_cast<double>(logical.y) / PANGO_SCALE;
      const double height = static_cast<double>(logical.height) / PANGO_SCALE;
      const double baseline = static_cast<double>(pango_layout_iter_get_baseline(it)) / PANGO_SCALE;
      if (line_origin_ < 0) line_origin_ = top;  // the first line starts at the cursor
      if (y_ + (top - line_origin_) + height > kPageHeight - kBottom - 14) {
        NewPage();
        line_origin_ = top;  // this line starts the new page
      }
      PangoLayoutLine* line = pango_layout_iter_get_line_readonly(it);
      cairo_move_to(cr_, x + static_cast<double>(logical.x) / PANGO_SCALE,
                    y_ + (baseline - line_origin_));
      pango_cairo_show_layout_line(cr_, line);
      last_bottom_ = y_ + (top - line_origin_) + height;
    } while (pango_layout_iter_next_line(it));
    pango_layout_iter_free(it);
    y_ = last_bottom_ + after;
    line_origin_ = -1;
  }

  void Skip(double points) { y_ += points; }
  // Starts a new page unless `needed` points fit on this one.
  void Need(double needed) {
    if (y_ + needed > kPageHeight - kBottom - 14) NewPage();
  }
  double y() const { return y_; }
  void set_y(double y) { y_ = y; }
  int pages() const { return page_; }

 private:
  void NewPage() {
    cairo_show_page(cr_);
    ++page_;
    y_ = kTop;
    Footer();
  }
  void Footer() {
    const std::string text = paper_.footer.empty()
                                 ? absl::StrCat("Trang ", page_)
                                 : absl::StrCat(paper_.footer, " · Trang ", page_);
    Style s{7.5};
    cairo_set_source_rgb(cr_, 0.35, 0.35, 0.35);
    Place(text, s, kLeft, kPageHeight - kBottom + 8, kWidth);
    cairo_set_source_rgb(cr_, 0, 0, 0);
  }

  cairo_t* cr_;
  const Paper& paper_;
  double y_ = kTop;
  double line_origin_ = -1;
  double last_bottom_ = kTop;
  int page_ = 1;
};

cairo_status_t Append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void DrawRule(cairo_t* cr, double x0, double x1, double y) {
  cairo_set_line_width(cr, 0.6);
  cairo_move_to(cr, x0, y);
  cairo_line_to(cr, x1, y);
  cairo_stroke(cr);
}

absl::Status DrawQr(cairo_t* cr, const std::string& payload, double x, double y, double size) {
  QRcode* q = QRcode_encodeString(payload.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (q == nullptr) return absl::InternalError("libqrencode could not encode the look-up address");
  const double module = size / q->width;
  for (int row = 0; row < q->width; ++row) {
    for (int col = 0; col < q->width; ++col) {
      if (q->data[row * q->width + col] & 1) {
        cairo_rectangle(cr, x + col * module, y + row * module, module, module);
      }
    }
  }
  cairo_fill(cr);
  QRcode_free(q);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RenderedPdf> RenderPdf(const Paper& paper) {
  RenderedPdf out;
  cairo_surface_t* surface =
      cairo_pdf_surface_create_for_stream(&Append, &out.bytes, kPageWidth, kPageHeight);
  // Fixed metadata: the same paper is the same bytes (its hash is recorded).
  const std::string created = absl::StrFormat("%04d-%02d-%02dT08:00:00+07:00", paper.date.year(),
                                              paper.date.month(), paper.date.day());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, created.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, created.c_str());
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "reception");
  cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, paper.pdf_title.c_str());
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 0, 0, 0);
  absl::Status status;
  int pages = 1;
  {
    Writer w(cr, paper);
    // The heading: the issuing unit (left) and the national heading (right).
    const double left_w = kWidth * 0.42;
    const double right_x = kLeft + left_w;
    const double right_w = kWidth - left_w;
    double top = kTop;
    if (!paper.form_code.empty()) {
      w.Place(paper.form_code, Style{10, false, true, PANGO_ALIGN_RIGHT}, kLeft, top - 24, kWidth);
    }
    double ly = top;
    if (!paper.issuer_parent.empty()) {
      ly += w.Place(paper.issuer_parent, Style{10.5, false, false, PANGO_ALIGN_CENTER}, kLeft, ly,
                    left_w);
    }
    ly += w.Place(paper.issuer, Style{10.5, true, false, PANGO_ALIGN_CENTER}, kLeft, ly, left_w);
    DrawRule(cr, kLeft + left_w * 0.3, kLeft + left_w * 0.7, ly + 3);
    ly += 8;
    ly += w.Place(paper.number, Style{11.5, false, false, PANGO_ALIGN_CENTER}, kLeft, ly, left_w);

    double ry = top;
    ry += w.Place("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                  Style{10.5, true, false, PANGO_ALIGN_CENTER}, right_x, ry, right_w);
    ry += w.Place("Độc lập - Tự do - Hạnh phúc", Style{12, true, false, PANGO_ALIGN_CENTER},
                  right_x, ry, right_w);
    DrawRule(cr, right_x + right_w * 0.2, right_x + right_w * 0.8, ry + 3);
    ry += 10;
    ry +=
        w.Place(paper.place_date, Style{12, false, true, PANGO_ALIGN_CENTER}, right_x, ry, right_w);
    w.set_y(std::max(ly, ry) + 22);

    w.Flow(paper.title, Style{14, true, false, PANGO_ALIGN_CENTER}, kLeft, kWidth, 2);
    w.Flow(paper.subtitle, Style{12.5, true, false, PANGO_ALIGN_CENTER}, kLeft, kWidth, 2);
    w.Skip(14);
    w.Flow(paper.legal_basis, Style{12.5, false, true, PANGO_ALIGN_LEFT, true, 28});
    for (const std::string& p : paper.paragraphs) {
      w.Flow(p, Style{13, false, false, PANGO_ALIGN_LEFT, true, 28});
    }
    if (!paper.qr_payload.empty()) {
      const double size = 86;
      w.Need(size + 10);
      w.Skip(4);
      status = DrawQr(cr, paper.qr_payload, kLeft, w.y(), size);
      w.Place(paper.qr_caption, Style{11}, kLeft + size + 14, w.y() + 8, kWidth - size - 14);
      w.Skip(size + 8);
    }
    // Signatures: titles, the note, room to sign.
    if (!paper.left_signature.empty() || !paper.right_signature.empty()) {
      w.Need(110);
      w.Skip(10);
      // The signer's block on the right, as wide as the national heading.
      const double left_w = kWidth * 0.42;
      const double right_w = kWidth - left_w;
      const double y0 = w.y();
      double lh = 0, rh = 0;
      if (!paper.left_signature.empty()) {
        lh = w.Place(paper.left_signature, Style{12.5, true, false, PANGO_ALIGN_CENTER}, kLeft, y0,
                     left_w);
        lh += w.Place(paper.signature_note, Style{11.5, false, true, PANGO_ALIGN_CENTER}, kLeft,
                      y0 + lh, left_w);
      }
      if (!paper.right_signature.empty()) {
        rh = w.Place(paper.right_signature, Style{12.5, true, false, PANGO_ALIGN_CENTER},
                     kLeft + left_w, y0, right_w);
        rh += w.Place(paper.signature_note, Style{11.5, false, true, PANGO_ALIGN_CENTER},
                      kLeft + left_w, y0 + rh, right_w);
      }
      w.set_y(y0 + std::max(lh, rh) + 70);
    }
    if (!paper.recipients.empty()) {
      std::string text = "Nơi nhận:";
      w.Need(20 + 14.0 * paper.recipients.size());
      w.Flow(text, Style{11.5, true, true}, kLeft, kWidth / 2, 1);
      std::string lines;
      for (const auto& r : paper.recipients)
        absl::StrAppend(&lines, lines.empty() ? "" : "\n", "- ", r);
      w.Flow(lines, Style{10.5}, kLeft, kWidth / 2, 0);
    }
    pages = w.pages();
  }
  cairo_show_page(cr);
  cairo_destroy(cr);
  cairo_surface_finish(surface);
  const cairo_status_t cs = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (!status.ok()) return status;
  if (cs != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(absl::StrCat("cairo: ", cairo_status_to_string(cs)));
  }
  out.pages = pages;
  return out;
}

}  // namespace reception::documents
