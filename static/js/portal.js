// QI Portal progressive enhancement.
//
// Load with <script type="module" src="{% static 'js/portal.js' %}">.
// nhsuk-frontend v10's dist bundle is an ES module that exports initAll()
// but does not initialise anything itself, so we do it here. Module scripts
// run after the document is parsed (like `defer`) and only in browsers that
// NHS.UK frontend supports, which replaces the inline <script> in the
// upstream page template (not allowed by our CSP, script-src 'self').
//
// The import path is relative to this file so it works under any STATIC_URL.
// (One line, ending in ";", so ManifestStaticFilesStorage can rewrite it to
// the hashed name if support_js_module_import_aggregation is enabled.)
import { initAll, InitError } from '../vendor/nhsuk-frontend/nhsuk-frontend.min.js';

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')

initAll()

// Content swapped in by htmx: initialise NHS.UK components inside it.
// Components already initialised raise InitError; those are expected.
document.addEventListener('htmx:load', (event) => {
  const elt = event.detail && event.detail.elt
  if (!elt || elt === document.body || !elt.parentElement) return
  initAll({
    scope: elt.parentElement,
    onError (error) {
      if (!(error instanceof InitError)) console.error(error)
    }
  })
})
