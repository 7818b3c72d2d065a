// A paper laid out as Vietnamese administrative documents are (the national
// heading at the top right, the issuing unit at the top left, the title,
// the body, the signature blocks, "Nơi nhận"), rendered to PDF with Cairo
// and Pango in DejaVu Serif (Debian's fonts-dejavu-core, which covers
// Vietnamese). The QR code is drawn from libqrencode's modules.
#ifndef RECEPTION_SERVICES_DOCUMENTS_PDF_PAPER_H_
#define RECEPTION_SERVICES_DOCUMENTS_PDF_PAPER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace reception::documents {

struct Paper {
  std::string issuer_parent;  // upper case, e.g. "ỦY BAN NHÂN DÂN THÀNH PHỐ ĐÀ NẴNG"; may be empty
  std::string issuer;      // upper case, bold
  std::string number;      // "Số: 48-1-000012/GBN"
  std::string place_date;  // "Đà Nẵng, ngày 05 tháng 3 năm 2026" (italic)
  std::string form_code;   // "Mẫu số 02" at the top right; may be empty
  std::string title;
  std::string subtitle;
  std::string legal_basis;              // italic, before the body; may be empty
  std::vector<std::string> paragraphs;  // may hold newlines
  std::string qr_payload;               // empty: no QR code
  std::string qr_caption;               // under the QR code
  std::string left_signature, right_signature, signature_note;
  std::vector<std::string> recipients;
  std::string footer;     // small print at the bottom of every page
  std::string pdf_title;  // metadata
  absl::CivilDay date;    // the PDF's creation date (metadata), for identical bytes
};

struct RenderedPdf {
  std::string bytes;
  int pages = 0;
};

// Thread-safe. The same Paper gives the same bytes.
absl::StatusOr<RenderedPdf> RenderPdf(const Paper& paper);

}  // namespace reception::documents

#endif  // RECEPTION_SERVICES_DOCUMENTS_PDF_PAPER_H_
