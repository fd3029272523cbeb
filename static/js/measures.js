// Data-entry grid niceties. The grid works without this file: "Add 5 more rows" posts
// back and the server adds rows. With JavaScript, that button adds a blank row in place
// (cloning the last row and renumbering Django's formset prefix) without a round trip.
(function () {
  'use strict'
  function setup (form) {
    var total = form.querySelector('input[name$="-TOTAL_FORMS"]')
    var button = form.querySelector('button[name="add_rows"]')
    var body = form.querySelector('tbody')
    if (!total || !button || !body || !body.lastElementChild) return
    var prefix = total.name.replace(/-TOTAL_FORMS$/, '')
    button.textContent = 'Add a row'
    button.addEventListener('click', function (event) {
      event.preventDefault()
      var n = parseInt(total.value, 10)
      var row = body.lastElementChild.cloneNode(true)
      var pattern = new RegExp(prefix + '-\\d+-', 'g')
      row.classList.remove('app-data-grid__row--error')
      row.querySelectorAll('.nhsuk-error-message').forEach(function (e) { e.remove() })
      row.querySelectorAll('.nhsuk-form-group--error').forEach(function (e) {
        e.classList.remove('nhsuk-form-group--error')
      })
      row.querySelectorAll('[name],[id],[for]').forEach(function (el) {
        ['name', 'id', 'for'].forEach(function (attr) {
          var v = el.getAttribute(attr)
          if (v) el.setAttribute(attr, v.replace(pattern, prefix + '-' + n + '-'))
        })
        if (el.tagName === 'INPUT') {
          if (el.type === 'checkbox') el.checked = false
          else el.value = ''
          el.removeAttribute('aria-invalid')
          el.classList.remove('nhsuk-input--error')
        }
      })
      row.querySelectorAll('label').forEach(function (label) {
        label.innerHTML = label.innerHTML.replace(/row \d+/, 'row ' + (n + 1))
      })
      var th = row.querySelector('th')
      if (th && th.firstChild && th.firstChild.nodeType === 3) th.firstChild.nodeValue = String(n + 1)
      body.appendChild(row)
      total.value = String(n + 1)
      var first = row.querySelector('input[type="date"]')
      if (first) first.focus()
    })
  }
  document.querySelectorAll('form[data-data-grid]').forEach(setup)
})()
