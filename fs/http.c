/* http.c: placeholder until the module lands */
int azsf_http_placeholder_(void);
int azsf_http_placeholder_(void)
{
	return 0;
}
