// Search excerpts from the page texts the build wrote (search-texts.js), not from fetched pages.
// Sphinx's search fetches every result page to cut an excerpt from it: over file:// the browser refuses
// (no excerpts, console errors), and over http the excerpt starts with the page's interface text (the
// language switch, "Contents") and shows math as raw TeX. On the search page only, requests for a page of
// the book are answered from search-texts.js; every other request goes to the network as before.
(() => {
  const root = document.documentElement.dataset.content_root || "";
  if (!window.location.pathname.endsWith("/search.html")) {
    return; // not the search page
  }
  const texts = new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = `${root}_static/search-texts.js`;
    script.onload = () => resolve(window.COURSE_SEARCH_TEXTS || {});
    script.onerror = () => resolve({});
    document.head.appendChild(script);
  });
  const base = new URL(root || "./", window.location.href).href;
  const networkFetch = window.fetch.bind(window);
  window.fetch = (resource, options) => {
    const url = new URL(typeof resource === "string" ? resource : resource.url, window.location.href);
    const page = url.href.startsWith(base) ? url.href.slice(base.length).split("#")[0] : null;
    if (page === null || !page.endsWith(".html")) {
      return networkFetch(resource, options);
    }
    return texts.then((known) =>
      page in known
        ? new Response(known[page], { headers: { "Content-Type": "text/html; charset=utf-8" } })
        : networkFetch(resource, options),
    );
  };
})();
