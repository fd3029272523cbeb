// PDSA cycle page: small progressive enhancements on top of htmx (loaded by base.html).
//
// Without JavaScript every stage form posts and the page reloads (PRG). With htmx a stage
// saves in place; the server returns the stage body plus out-of-band updates. This file
// only manages focus after a swap, so keyboard and screen-reader users land on the result:
// an error summary or conflict panel gets focus; a successful save is announced by the
// stage's role="status" element and focus stays where it was.
(function () {
  'use strict'

  document.addEventListener('htmx:afterSwap', function (event) {
    var target = event.detail && event.detail.target
    if (!target || !target.id || target.id.indexOf('stage-') !== 0) return
    var problem = target.querySelector('.nhsuk-error-summary')
    if (problem) {
      problem.focus()
      return
    }
    // The form was replaced, so the focused button is gone: keep focus in this stage.
    if (!document.activeElement || document.activeElement === document.body) {
      var heading = document.getElementById(target.id.replace('-body', '-heading'))
      if (heading) {
        heading.setAttribute('tabindex', '-1')
        heading.focus()
      }
    }
  })
})()
