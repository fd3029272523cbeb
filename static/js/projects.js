// Project register: small progressive enhancements. Everything works without this file.
//
// On the charter form, when someone may register projects at more than one trust, show
// only the units of the chosen trust. (The server checks the unit belongs to the trust.)
(function () {
  'use strict'
  var trust = document.getElementById('id_trust')
  var unit = document.getElementById('id_unit')
  if (!trust || !unit || trust.tagName !== 'SELECT' || trust.options.length < 2) return
  var all = Array.prototype.slice.call(unit.options)
  var byTrust = JSON.parse(unit.getAttribute('data-unit-trusts') || '{}')

  function filter () {
    var chosen = trust.value
    all.forEach(function (option) {
      var owner = byTrust[option.value]
      var show = !option.value || !chosen || String(owner) === chosen
      option.hidden = !show
      option.disabled = !show
      if (!show && option.selected) unit.value = ''
    })
  }
  trust.addEventListener('change', filter)
  filter()
})()
