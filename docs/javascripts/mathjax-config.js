// MathJax settings for the formulas written by pymdownx.arithmatex (generic mode): it wraps each
// formula in an element of class "arithmatex", with \( \) inline and \[ \] for display math.
// Only those elements are typeset, so code blocks that contain such delimiters are left alone.
// This file must load before MathJax itself (see extra_javascript in mkdocs.yml).
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
