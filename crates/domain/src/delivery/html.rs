//! The agent's Markdown as a small HTML document, for the HTML part of an
//! e-mail (the text part is the Markdown itself). Everything is escaped;
//! only the structure (headings, paragraphs, lists, code) becomes markup.

use super::markdown::{MdBlock, blocks, to_plain};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `markdown` as an HTML fragment inside `<html><body>`.
pub fn to_html(markdown: &str, footer: &str) -> String {
    let mut out = String::from("<!doctype html><html><body style=\"font-family:sans-serif\">\n");
    for block in blocks(markdown) {
        match block {
            MdBlock::Heading(text) => out.push_str(&format!("<h2>{}</h2>\n", escape(&to_plain(&text)))),
            MdBlock::Paragraph(text) => {
                out.push_str(&format!("<p>{}</p>\n", escape(&to_plain(&text)).replace('\n', "<br>")));
            }
            MdBlock::List(items) => {
                out.push_str("<ul>\n");
                for (_, item) in items {
                    out.push_str(&format!("<li>{}</li>\n", escape(&to_plain(&item))));
                }
                out.push_str("</ul>\n");
            }
            MdBlock::Code(code) => out.push_str(&format!("<pre>{}</pre>\n", escape(&code))),
            MdBlock::Rule => out.push_str("<hr>\n"),
        }
    }
    out.push_str(&format!("<p style=\"color:#666;font-size:small\">{}</p>\n</body></html>\n", escape(footer)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_becomes_markup_and_text_is_escaped() {
        let html = to_html("# Plan <today>\n\n- **a** & b\n\nok", "cost $0.01");
        assert!(html.contains("<h2>Plan &lt;today&gt;</h2>"), "{html}");
        assert!(html.contains("<li>a &amp; b</li>"), "{html}");
        assert!(html.contains("<p>ok</p>") && html.contains("cost $0.01"), "{html}");
    }
}
