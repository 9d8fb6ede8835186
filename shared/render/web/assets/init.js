// Starts NHS.UK frontend (nhsuk-frontend 10.6.1) without any inline script, so pages work under a
// strict Content-Security-Policy (script-src 'self').
//
// The package's own page template adds these body classes with an inline <script>; loading this file
// as a module does the same job: a browser that runs modules is one NHS.UK frontend supports.
// Every page works without JavaScript; this only adds enhancements (character count, focus on the
// error summary, double-click protection on buttons).
import { initAll } from './nhsuk-frontend.min.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
