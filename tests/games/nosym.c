/* A shared object with no gs_game symbol. */
int	not_a_game(void);

int
not_a_game(void)
{
	return 0;
}
