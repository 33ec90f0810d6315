// Progressive enhancement only: every page works without this file.
// Show-password toggles (P3): the buttons are hidden until this script runs.
document.querySelectorAll('button[data-toggle-for]').forEach(function (button) {
  var input = document.getElementById(button.getAttribute('data-toggle-for'));
  if (!input) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    var show = input.type === 'password';
    input.type = show ? 'text' : 'password';
    button.textContent = show ? button.getAttribute('data-hide') : button.getAttribute('data-show');
    button.setAttribute('aria-pressed', show ? 'true' : 'false');
  });
});
// Move focus to the error summary so that screen readers announce it (W1).
var summary = document.getElementById('error-summary');
if (summary) summary.focus();
