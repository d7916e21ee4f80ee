// Theme fixes and the language switch (see _ext/editions/__init__.py).
(() => {
  // pydata-sphinx-theme 0.17 binds only the first ".primary-toggle" / ".secondary-toggle" on the
  // page, which is a hidden header button in sphinx-book-theme; the visible buttons do nothing (the
  // chapter list cannot be opened on a phone). Forward their clicks to the bound button, so that
  // both themes' handlers (dialog on narrow screens, collapse on wide ones) run as designed.
  const forwardToggleClicks = (selector) => {
    const buttons = Array.from(document.querySelectorAll(selector));
    const bound = buttons[0];
    buttons.slice(1).forEach((button) => {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
        button.blur();
      });
    });
  };

  // The section the reader is in: the one named in the address, else the last section whose heading is
  // above the first third of the window. Both editions give a section the same id (Sphinx keeps the
  // English ids in a translated page), so the switch can land on the same section.
  const currentSection = () => {
    if (window.location.hash.length > 1) {
      return window.location.hash;
    }
    let found = "";
    document.querySelectorAll("article section[id]").forEach((section) => {
      // a page's own title section needs no anchor: the switch opens the page at its top
      const heading = section.querySelector(":scope > h1, :scope > h2, :scope > h3, :scope > h4");
      if (heading && heading.tagName !== "H1" && section.getBoundingClientRect().top < window.innerHeight / 3) {
        found = `#${section.id}`;
      }
    });
    return found;
  };

  // Remember the reader's choice: the front page (_build/html/index.html) prefers it to the
  // browser's language. Keep the reader's place in the other edition.
  const rememberEdition = () => {
    document.querySelectorAll("a.edition-switch").forEach((link) => {
      link.addEventListener("click", () => {
        link.href = link.href.split("#")[0] + currentSection();
        try {
          window.localStorage.setItem("course-edition", link.dataset.edition);
        } catch (error) {
          // storage can be disabled (private mode, file:// in some browsers): the link still works
        }
      });
    });
  };

  const init = () => {
    forwardToggleClicks(".primary-toggle");
    forwardToggleClicks(".secondary-toggle");
    rememberEdition();
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
